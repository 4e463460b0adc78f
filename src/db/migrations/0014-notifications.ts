/**
 * Operational events and notification channels (DESIGN.md section 4b).
 *
 * `operational_events` is an outbox: an event is written by a trigger in the same statement
 * (so the same transaction) as the change it reports, an integration turned off with a
 * reason (`integration.disabled`), an integration's failure clock cleared while it stays on
 * (`integration.recovered`), a delivery of an integration still on moving to `dead`
 * (`delivery.dead`). The delivery engine needs no code for it and no change can commit
 * without its event. The same insert fans the event out to one `notification_sends` row per
 * channel of the workspace that wants its type; the worker sends those.
 *
 * Channel sends are never deliveries: they have their own table, no trigger watches it, so
 * a failing channel cannot raise an event about itself (no loops).
 */
export const statements = [
  `CREATE TABLE notification_channels (
    id uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('email', 'webhook', 'slack')),
    target text NOT NULL,
    events text[] NOT NULL,
    secret_sealed text,
    config_sealed text,
    failing_since timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now()
  )`,
  `CREATE INDEX notification_channels_workspace_idx
     ON notification_channels (workspace_id, created_at DESC, id DESC)`,
  `CREATE TABLE operational_events (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    workspace_id uuid NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    type text NOT NULL
      CHECK (type IN ('integration.disabled', 'integration.recovered', 'delivery.dead')),
    integration_id uuid NOT NULL,
    connector text NOT NULL,
    delivery_id uuid,
    delivery_event text,
    reason text,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
  )`,
  `CREATE INDEX operational_events_workspace_idx
     ON operational_events (workspace_id, created_at DESC, id DESC)`,
  `CREATE TABLE notification_sends (
    event_id uuid NOT NULL REFERENCES operational_events (id) ON DELETE CASCADE,
    channel_id uuid NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz,
    sent_at timestamptz,
    PRIMARY KEY (event_id, channel_id)
  )`,
  `CREATE INDEX notification_sends_due_idx ON notification_sends (next_attempt_at)
     WHERE status = 'pending'`,
  `CREATE INDEX notification_sends_channel_idx ON notification_sends (channel_id)`,
  // One event and its sends (one per channel of the workspace that wants the type).
  `CREATE FUNCTION record_operational_event(p_workspace uuid, p_type text, p_integration uuid,
     p_connector text, p_delivery uuid, p_event text, p_reason text) RETURNS void
   LANGUAGE plpgsql AS $$
   DECLARE
     event_id uuid;
   BEGIN
     INSERT INTO operational_events (workspace_id, type, integration_id, connector, delivery_id,
       delivery_event, reason)
     VALUES (p_workspace, p_type, p_integration, p_connector, p_delivery, p_event, p_reason)
     RETURNING id INTO event_id;
     INSERT INTO notification_sends (event_id, channel_id)
     SELECT event_id, c.id FROM notification_channels c
     WHERE c.workspace_id = p_workspace AND p_type = ANY (c.events);
   END $$`,
  `CREATE FUNCTION integration_operational_event() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF OLD.active AND NOT NEW.active AND NEW.disabled_reason IS NOT NULL THEN
       PERFORM record_operational_event(NEW.workspace_id, 'integration.disabled', NEW.id,
         NEW.connector, NULL, NULL, NEW.disabled_reason);
     ELSE
       PERFORM record_operational_event(NEW.workspace_id, 'integration.recovered', NEW.id,
         NEW.connector, NULL, NULL, NULL);
     END IF;
     RETURN NULL;
   END $$`,
  // Turned off with a reason (a 410, five days of failures; a key's PATCH gives none), or
  // the failure clock cleared by a success while the integration stays on.
  `CREATE TRIGGER integrations_operational_event AFTER UPDATE OF active, failing_since
     ON integrations FOR EACH ROW
     WHEN ((OLD.active AND NOT NEW.active AND NEW.disabled_reason IS NOT NULL)
       OR (OLD.failing_since IS NOT NULL AND NEW.failing_since IS NULL AND OLD.active AND NEW.active))
     EXECUTE FUNCTION integration_operational_event()`,
  // A dead delivery of an integration still on and not deleted: one turned off (a 410) has
  // its own event, and the deliveries it drains (permanent failures) add nothing.
  `CREATE FUNCTION delivery_operational_event() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM record_operational_event(NEW.workspace_id, 'delivery.dead', i.id, i.connector,
       NEW.id, NEW.event_type,
       (SELECT a.error FROM delivery_attempts a WHERE a.delivery_id = NEW.id
        ORDER BY a.number DESC LIMIT 1))
     FROM integrations i
     WHERE i.id = NEW.integration_id AND i.active AND i.deleted_at IS NULL;
     RETURN NULL;
   END $$`,
  `CREATE TRIGGER deliveries_operational_event AFTER UPDATE OF status ON deliveries
     FOR EACH ROW WHEN (NEW.status = 'dead' AND OLD.status <> 'dead')
     EXECUTE FUNCTION delivery_operational_event()`,
];
