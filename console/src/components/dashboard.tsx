import { useEffect, useState } from 'preact/hooks';
import { ApiError, isMissingRoute, json } from '../api.ts';
import { followMetrics, type StreamState } from '../sse.ts';
import type { Forecast, Form, Metrics, Page, ResponseRow, Trends } from '../types.ts';
import { useLoad } from '../use-load.ts';
import { Distributions } from './distribution.tsx';
import { ErrorNote, Loading, Section, Unavailable } from './feedback.tsx';
import { ForecastView } from './forecast.tsx';
import { Latest } from './latest.tsx';
import { Series } from './series.tsx';

/** Metrics from the live stream; `unavailable` when the hub serves no analytics. */
function useLiveMetrics(formId: string) {
  const [metrics, setMetrics] = useState<Metrics>();
  const [state, setState] = useState<StreamState>('connecting');
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    const controller = new AbortController();
    setMetrics(undefined);
    setError(undefined);
    void followMetrics<Metrics>(
      formId,
      { onMetrics: setMetrics, onState: setState, onError: setError },
      controller.signal,
    );
    return () => controller.abort();
  }, [formId]);
  return { metrics, state, error };
}

function Stat({ label, value, id }: { label: string; value: string; id: string }) {
  return (
    <div class="stat">
      <dt id={`${id}-label`}>{label}</dt>
      <dd data-testid={id} aria-labelledby={`${id}-label`}>
        {value}
      </dd>
    </div>
  );
}

/** The live dashboard of one form. */
export function Dashboard({ form }: { form: Form }) {
  const live = useLiveMetrics(form.id);
  const total = live.metrics?.total;
  // The latest responses and the trends follow the stream: refetched when the total moves.
  const latest = useLoad(
    () => json<Page<ResponseRow>>(`/forms/${form.id}/responses?limit=20`),
    [form.id, total],
  );
  const trends = useLoad(
    () => json<Trends>(`/analytics/forms/${form.id}/trends`),
    [form.id, total],
  );
  const forecast = useLoad(
    () => json<Forecast>(`/analytics/predict/next-week?form_id=${form.id}`),
    [form.id],
  );
  const analyticsOff = isMissingRoute(live.error);
  const m = live.metrics;
  return (
    <>
      <p class="live" role="status" aria-live="polite">
        {analyticsOff
          ? ''
          : live.state === 'live'
            ? '● Live: updates as responses arrive'
            : live.state === 'connecting'
              ? 'Connecting…'
              : 'Reconnecting…'}
      </p>
      {analyticsOff ? (
        <Unavailable what="Analytics" flag="FEATURE_ANALYTICS" />
      ) : (
        <ErrorNote error={live.error} />
      )}
      {!m && !live.error && <Loading what="metrics" />}
      {m && (
        <>
          <Section title="Responses" id="h-counts">
            <dl class="stats">
              <Stat id="stat-total" label="Total" value={String(m.total)} />
              <Stat id="stat-completed" label="Completed" value={String(m.completed)} />
              <Stat id="stat-partial" label="Partial" value={String(m.partial)} />
              <Stat id="stat-today" label="Today (UTC)" value={String(m.today)} />
              <Stat
                id="stat-rate"
                label="Completion rate"
                value={`${(m.completion_rate * 100).toFixed(1)}%`}
              />
            </dl>
          </Section>
          <Section title="Completed responses over time" id="h-series">
            <Series metrics={m} trends={trends.data} />
            {trends.data && (
              <p class="muted">
                This week {trends.data.this_week}, last week {trends.data.last_week}
                {trends.data.change !== null &&
                  ` (${trends.data.change >= 0 ? '+' : ''}${(trends.data.change * 100).toFixed(1)}%)`}
                .
              </p>
            )}
          </Section>
          <Section title="Answers" id="h-fields">
            <Distributions form={form} metrics={m} />
          </Section>
        </>
      )}
      {!analyticsOff && (
        <Section title="Next 7 days" id="h-forecast">
          {forecast.data ? (
            <ForecastView forecast={forecast.data} />
          ) : forecast.error ? (
            <ErrorNote error={forecast.error} />
          ) : (
            <Loading what="the forecast" />
          )}
        </Section>
      )}
      <Section title="Latest 20 responses" id="h-latest">
        <ErrorNote error={latest.error instanceof ApiError ? latest.error : undefined} />
        {latest.data ? (
          <Latest rows={latest.data.data} />
        ) : (
          !latest.error && <Loading what="responses" />
        )}
      </Section>
    </>
  );
}
