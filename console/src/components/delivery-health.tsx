import { useState } from 'preact/hooks';
import { json, post } from '../api.ts';
import { formatRate, healthFigures } from '../health.ts';
import type { Delivery, DeliveryStats, Page } from '../types.ts';
import { useLoad } from '../use-load.ts';
import { ErrorNote, Loading } from './feedback.tsx';

/** The newest deliveries read for the list of last attempts. */
const RECENT = 50;

const when = (iso: string) => iso.replace('T', ' ').slice(0, 19);

/**
 * Delivery health of one webhook or integration: its 24 h stats as the hub keeps them
 * (`GET .../stats`), the last attempts, dead deliveries and replay.
 */
export function DeliveryHealth({
  base,
  id,
  name,
}: {
  base: '/webhooks' | '/integrations';
  id: string;
  name: string;
}) {
  const stats = useLoad(() => json<DeliveryStats>(`${base}/${id}/stats?window=24h`), [base, id]);
  const recent = useLoad(
    () => json<Page<Delivery>>(`${base}/${id}/deliveries?limit=${RECENT}`),
    [base, id],
  );
  const dead = useLoad(
    () => json<Page<Delivery>>(`${base}/${id}/deliveries?status=dead&limit=100`),
    [base, id],
  );
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const act = async (run: () => Promise<string>) => {
    setBusy(true);
    setError(undefined);
    setMessage(undefined);
    try {
      setMessage(await run());
      stats.reload();
      recent.reload();
      dead.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const replayOne = (delivery: Delivery) =>
    act(async () => {
      await post(`/deliveries/${delivery.id}/replay`, {});
      return `Delivery ${delivery.id.slice(0, 8)} queued for replay.`;
    });
  const replayAll = () =>
    act(async () => {
      const { replayed } = await post<{ replayed: number }>(`${base}/${id}/replay`, {
        since: new Date(0).toISOString(),
        status: 'dead',
      });
      return `${replayed} dead ${replayed === 1 ? 'delivery' : 'deliveries'} queued for replay.`;
    });

  if (stats.error ?? recent.error) return <ErrorNote error={stats.error ?? recent.error} />;
  if (!stats.data || !recent.data) return <Loading what={`deliveries of ${name}`} />;
  const figures = stats.data;
  const attempts = recent.data.data
    .flatMap((d) => d.attempts.map((a) => ({ ...a, delivery: d })))
    .sort((a, b) => Date.parse(b.at) - Date.parse(a.at))
    .slice(0, 5);
  const deadRows = dead.data?.data ?? [];
  return (
    <div class="health">
      <p>
        Success rate (24 h):{' '}
        <strong data-testid="success-rate">{formatRate(figures.success_rate)}</strong>
        <span class="muted"> delivered / (delivered + dead)</span>
      </p>
      <dl class="stats health-stats" aria-label={`Delivery stats of ${name}, last 24 h`}>
        {healthFigures(figures).map((f) => (
          <div class="stat" key={f.id}>
            <dt id={`${id}-${f.id}-label`}>{f.label}</dt>
            <dd data-testid={`health-${f.id}`} aria-labelledby={`${id}-${f.id}-label`}>
              {f.value}
            </dd>
          </div>
        ))}
      </dl>
      <h4>Last attempts</h4>
      {attempts.length === 0 ? (
        <p class="muted">No attempts yet.</p>
      ) : (
        <ul class="attempts">
          {attempts.map((a) => (
            <li key={`${a.delivery.id}-${a.number}`}>
              {when(a.at)} · {a.delivery.event} · attempt {a.number}
              {a.manual ? ' (manual)' : ''} ·{' '}
              <span class={a.status_code >= 200 && a.status_code < 300 ? 'ok' : 'bad'}>
                {a.status_code || 'network error'}
              </span>{' '}
              · {a.latency_ms} ms{a.error ? ` · ${a.error}` : ''}
            </li>
          ))}
        </ul>
      )}
      <h4>Dead deliveries ({deadRows.length})</h4>
      <ErrorNote error={dead.error ?? error} />
      {message && (
        <p class="note ok" role="status">
          {message}
        </p>
      )}
      {deadRows.length > 0 && (
        <>
          <ul class="dead" aria-label={`Dead deliveries of ${name}`}>
            {deadRows.map((d) => (
              <li key={d.id}>
                <span>
                  {when(d.created_at)} · {d.event} · {d.attempts.length} attempts
                </span>
                <button
                  type="button"
                  class="small"
                  disabled={busy}
                  onClick={() => void replayOne(d)}
                  aria-label={`Replay delivery ${d.id}`}
                >
                  Replay
                </button>
              </li>
            ))}
          </ul>
          <button type="button" class="secondary" disabled={busy} onClick={() => void replayAll()}>
            Replay all dead deliveries
          </button>
        </>
      )}
      <button
        type="button"
        class="link"
        onClick={() => (stats.reload(), recent.reload(), dead.reload())}
      >
        Refresh
      </button>
    </div>
  );
}
