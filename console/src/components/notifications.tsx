import { isMissingRoute, json } from '../api.ts';
import type { NotificationChannel, OperationalEvent, Page } from '../types.ts';
import { useLoad } from '../use-load.ts';
import { ErrorNote, Loading, Unavailable } from './feedback.tsx';

const HEADLINES: Record<OperationalEvent['type'], string> = {
  'integration.disabled': 'Integration disabled',
  'integration.recovered': 'Integration recovered',
  'delivery.dead': 'Delivery dead',
};

/** A time as the reader's locale writes it. */
const when = (iso: string) => new Date(iso).toLocaleString();

/**
 * The workspace's notification channels and its recent operational events (an integration
 * disabled or recovered, a dead delivery), each with what every channel was sent.
 */
export function Notifications() {
  const channels = useLoad(
    () => json<Page<NotificationChannel>>('/notification-channels?limit=100'),
    [],
  );
  const events = useLoad(() => json<Page<OperationalEvent>>('/operational-events?limit=50'), []);
  if (isMissingRoute(channels.error)) {
    return (
      <main id="main">
        <h1>Notifications</h1>
        <Unavailable what="Notification channels" />
      </main>
    );
  }
  return (
    <main id="main">
      <h1>Notifications</h1>
      <section class="card" aria-labelledby="channels-title">
        <h2 id="channels-title">Channels</h2>
        {channels.loading && !channels.data && <Loading what="channels" />}
        <ErrorNote error={channels.error} />
        {channels.data?.data.length === 0 && (
          <p class="muted">
            No channels: operational events are recorded below but sent nowhere. Create one with
            POST /api/v2/notification-channels.
          </p>
        )}
        <ul class="channels">
          {channels.data?.data.map((c) => (
            <li key={c.id}>
              <strong>{c.kind}</strong> {c.target} · {c.events.join(', ')} ·{' '}
              <span class={c.status === 'failing' ? 'bad' : 'ok'}>{c.status}</span>
              {c.last_error && <span class="muted"> ({c.last_error})</span>}
            </li>
          ))}
        </ul>
      </section>
      <section class="card" aria-labelledby="events-title">
        <h2 id="events-title">Recent operational events</h2>
        {events.loading && !events.data && <Loading what="operational events" />}
        <ErrorNote error={events.error} />
        {events.data?.data.length === 0 && <p class="muted">Nothing has happened yet.</p>}
        <ul class="events" aria-label="Operational events">
          {events.data?.data.map((e) => (
            <li key={e.id}>
              <p>
                <strong>{HEADLINES[e.type]}</strong> <code>{e.type}</code> · {when(e.created_at)}
              </p>
              <p class="muted">
                {e.integration.connector} integration <code>{e.integration.id}</code>
                {e.integration.url ? ` (${e.integration.url})` : ''}
                {e.delivery ? ` · delivery ${e.delivery.id} (${e.delivery.event})` : ''}
                {e.reason ? ` · ${e.reason}` : ''}
              </p>
              {e.sends.length === 0 ? (
                <p class="muted">Sent to no channel.</p>
              ) : (
                <ul class="sends">
                  {e.sends.map((s) => (
                    <li key={s.channel_id}>
                      {s.kind} {s.target}: {s.status}
                      {s.attempts > 1 ? ` after ${s.attempts} attempts` : ''}
                      {s.last_error ? ` · ${s.last_error}` : ''}
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
        <button type="button" class="link" onClick={() => (events.reload(), channels.reload())}>
          Refresh
        </button>
      </section>
    </main>
  );
}
