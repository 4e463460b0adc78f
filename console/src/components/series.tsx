import { useMemo, useState } from 'preact/hooks';
import type uPlot from 'uplot';
import type { Metrics, Trends } from '../types.ts';
import { Chart, type ChartOptions, secondsOf, utc } from './chart.tsx';

type Grain = 'hour' | 'day' | 'month';
const GRAINS: { grain: Grain; label: string }[] = [
  { grain: 'hour', label: 'Hours (48)' },
  { grain: 'day', label: 'Days (90)' },
  { grain: 'month', label: 'Months (12)' },
];

const ANOMALY = '#b3261e';

function optionsFor(grain: Grain, withAnomalies: boolean): ChartOptions {
  const series: uPlot.Series[] = [
    {},
    { label: 'Completed', stroke: '#1f5fbf', fill: 'rgba(31,95,191,0.12)', width: 2 },
  ];
  if (withAnomalies) {
    series.push({
      label: 'Anomaly',
      stroke: ANOMALY,
      paths: () => null,
      points: { show: true, size: 11, width: 2, stroke: ANOMALY, fill: '#fff' },
    });
  }
  return {
    tzDate: utc,
    series,
    scales: { x: { time: true } },
    axes: [
      { values: grain === 'hour' ? '{HH}:00' : grain === 'day' ? '{D} {MMM}' : '{MMM} {YY}' },
      {},
    ],
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
  };
}

/** The time series with an hour/day/month switch; anomalies are marked on the daily series. */
export function Series({ metrics, trends }: { metrics: Metrics; trends: Trends | undefined }) {
  const [grain, setGrain] = useState<Grain>('day');
  const anomalies = grain === 'day' ? (trends?.anomalies ?? []) : [];
  const points = metrics.timeseries[grain];
  const options = useMemo(
    () => optionsFor(grain, anomalies.length > 0),
    [grain, anomalies.length > 0],
  );
  const data = useMemo<uPlot.AlignedData>(() => {
    const xs = points.map((p) => secondsOf(p.t));
    const ys = points.map((p) => p.count);
    if (anomalies.length === 0) return [xs, ys];
    const marked = new Map(anomalies.map((a) => [a.date, a.count]));
    return [xs, ys, points.map((p) => marked.get(p.t) ?? null)];
  }, [points, anomalies]);
  const total = points.reduce((sum, p) => sum + p.count, 0);
  return (
    <div>
      <div class="switch" role="radiogroup" aria-label="Series granularity">
        {GRAINS.map(({ grain: g, label }) => (
          <label key={g} class={g === grain ? 'on' : ''}>
            <input
              type="radio"
              name="grain"
              value={g}
              checked={g === grain}
              onChange={() => setGrain(g)}
            />
            {label}
          </label>
        ))}
      </div>
      <Chart
        options={options}
        data={data}
        summary={`Completed responses per ${grain}, ${points.length} points, ${total} in all${anomalies.length ? `, ${anomalies.length} anomalous days marked` : ''}.`}
      />
      {anomalies.length > 0 && (
        <ul class="anomalies" aria-label="Anomalous days">
          {anomalies.map((a) => (
            <li key={a.date}>
              <span class="dot" aria-hidden="true" /> {a.date}: {a.count} responses, about{' '}
              {a.expected} expected
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
