/** The API's shapes the console reads (DESIGN.md section 4). */
export interface Field {
  key: string;
  type: string;
  label?: string;
  options?: string[];
}

export interface Form {
  id: string;
  title: string;
  description: string | null;
  status: 'draft' | 'published';
  version: number;
  fields: Field[];
  calculated_fields: { key: string }[];
  updated_at: string;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

export interface Point {
  t: string;
  count: number;
}

export interface Metrics {
  form_id: string;
  total: number;
  completed: number;
  partial: number;
  today: number;
  completion_rate: number;
  timeseries: { hour: Point[]; day: Point[]; month: Point[] };
  fields: Record<string, { answered: number; counts: Record<string, number> }>;
}

export interface Forecast {
  forecast: { date: string; expected: number; low: number; high: number }[];
  total: number;
  model: { kind: string; trained_at: string; training_days: number; mape: number | null };
}

export interface Trends {
  this_week: number;
  last_week: number;
  change: number | null;
  anomalies: { date: string; count: number; expected: number }[];
}

export interface ResponseRow {
  id: string;
  data: Record<string, unknown>;
  completed: boolean;
  submitted_at: string;
}

export interface Attempt {
  number: number;
  at: string;
  status_code: number;
  latency_ms: number;
  error: string | null;
  manual: boolean;
}

export interface Delivery {
  id: string;
  event: string;
  status: 'pending' | 'succeeded' | 'failed' | 'dead';
  created_at: string;
  next_attempt_at: string | null;
  attempts: Attempt[];
}

/** `GET /{webhooks|integrations}/:id/stats`: kept by the hub as deliveries happen. */
export interface DeliveryStats {
  window: '1h' | '24h' | '7d';
  delivered: number;
  failed_attempts: number;
  dead: number;
  pending: number;
  filtered: number;
  /** delivered / (delivered + dead) in the window; null when both are 0. */
  success_rate: number | null;
  latency_ms: { p50: number | null; p95: number | null };
  buckets: { t: string; delivered: number; failed: number }[];
}

export interface Webhook {
  id: string;
  /** Null: workspace-wide, it fires for every form of the workspace. */
  form_id: string | null;
  url: string;
  events: string[];
  active: boolean;
  disabled_reason: string | null;
  /** A DSL filter on the event's response (DESIGN.md section 4a); null: every event. */
  condition: Record<string, unknown> | null;
}

export interface Integration {
  id: string;
  /** Null: workspace-wide, it fires for every form of the workspace. */
  form_id: string | null;
  connector: string;
  events: string[];
  active: boolean;
  disabled_reason: string | null;
  condition: Record<string, unknown> | null;
}

export interface ExportJob {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  progress: number;
  total: number | null;
  error: string | null;
  download_url: string | null;
}

/** A notification channel (never its secret or token). */
export interface NotificationChannel {
  id: string;
  kind: 'email' | 'webhook' | 'slack';
  target: string;
  events: string[];
  status: 'active' | 'failing';
  failing_since: string | null;
  last_error: string | null;
  created_at: string;
}

/** An operational event, with what each channel was sent. */
export interface OperationalEvent {
  type: 'integration.disabled' | 'integration.recovered' | 'delivery.dead';
  id: string;
  created_at: string;
  integration: { id: string; connector: string; url?: string };
  delivery?: { id: string; event: string };
  reason?: string;
  sends: {
    channel_id: string;
    kind: string | null;
    target: string | null;
    status: 'pending' | 'sent' | 'failed';
    attempts: number;
    last_error: string | null;
  }[];
}
