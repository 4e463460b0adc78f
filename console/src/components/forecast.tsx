import { useMemo } from 'preact/hooks';
import type uPlot from 'uplot';
import type { Forecast } from '../types.ts';
import { Chart, type ChartOptions, secondsOf, utc } from './chart.tsx';

const OPTIONS: ChartOptions = {
  tzDate: utc,
  series: [
    {},
    { label: 'Low', stroke: 'rgba(31,95,191,0.35)', dash: [4, 4] },
    { label: 'Expected', stroke: '#1f5fbf', width: 2 },
    { label: 'High', stroke: 'rgba(31,95,191,0.35)', dash: [4, 4] },
  ],
  // The 80% interval: the area between High and Low.
  bands: [{ series: [3, 1], fill: 'rgba(31,95,191,0.12)' }],
  axes: [{ values: '{D} {MMM}', incrs: [86_400] }, {}],
  cursor: { drag: { x: false, y: false } },
};

/** The next 7 days' forecast with its low..high band, as a chart and a table. */
export function ForecastView({ forecast }: { forecast: Forecast }) {
  const rows = forecast.forecast;
  const data = useMemo<uPlot.AlignedData>(
    () => [
      rows.map((r) => secondsOf(r.date)),
      rows.map((r) => r.low),
      rows.map((r) => r.expected),
      rows.map((r) => r.high),
    ],
    [rows],
  );
  return (
    <div>
      <p>
        About <strong>{forecast.total}</strong> completed responses expected over the next 7 days
        {forecast.model.mape !== null &&
          ` (model ${forecast.model.kind}, backtest error ${(forecast.model.mape * 100).toFixed(1)}%)`}
        .
      </p>
      <Chart
        options={OPTIONS}
        data={data}
        height={180}
        summary={`Forecast for the next 7 days: ${forecast.total} expected in all.`}
      />
      <table class="compact">
        <caption class="sr-only">Forecast per day with its 80% interval</caption>
        <thead>
          <tr>
            <th scope="col">Date</th>
            <th scope="col">Expected</th>
            <th scope="col">Interval (80%)</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.date}>
              <td>{r.date}</td>
              <td>{r.expected}</td>
              <td>
                {r.low}..{r.high}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
