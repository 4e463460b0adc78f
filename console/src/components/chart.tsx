import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** Options without the size: the chart takes its container's width. */
export type ChartOptions = Omit<uPlot.Options, 'width' | 'height'>;

/**
 * A uPlot chart that follows its container's width and redraws in place when `data`
 * changes (live updates do not rebuild it). `summary` is its text alternative.
 */
export function Chart({
  options,
  data,
  summary,
  height = 220,
}: {
  options: ChartOptions;
  data: uPlot.AlignedData;
  summary: string;
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  useEffect(() => {
    const element = box.current!;
    const chart = new uPlot(
      { ...options, width: Math.max(element.clientWidth, 200), height },
      data,
      element,
    );
    plot.current = chart;
    const observer = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(element.clientWidth, 200), height }),
    );
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
      plot.current = undefined;
    };
    // A new series shape (another switch position) needs a new chart; new values do not.
  }, [options]);
  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
  return (
    <figure class="chart">
      <div ref={box} role="img" aria-label={summary} />
    </figure>
  );
}

/** UTC labels: the API's buckets are UTC. */
export const utc = (ts: number) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC');

/** Unix seconds of an API bucket key: `2026-11-28T10:00:00Z`, `2026-11-28` or `2026-11`. Pure. */
export function secondsOf(key: string): number {
  if (/^\d{4}-\d{2}$/.test(key)) return Date.parse(`${key}-01T00:00:00Z`) / 1000;
  if (/^\d{4}-\d{2}-\d{2}$/.test(key)) return Date.parse(`${key}T00:00:00Z`) / 1000;
  return Date.parse(key) / 1000;
}
