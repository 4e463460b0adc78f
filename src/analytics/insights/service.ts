import { uuidv7 } from '../../common/index.ts';
import { withQueryTimeout, type Database } from '../../db/index.ts';
import { writeEvent, type OutboxCommits } from '../../events/index.ts';
import type { FormService } from '../../forms/index.ts';
import {
  addDays,
  detectAnomalies,
  forecastTotal,
  trainModel,
  utcDate,
  weekOverWeek,
  type TrainedModel,
} from '../forecast/index.ts';
import * as q from './queries.ts';

/** How much history the forecaster learns from. */
const TRAINING_DAYS = 400;
/** How much history trends and anomaly detection look at (28 days checked, 8 weeks of context). */
const TREND_DAYS = 120;

/** `GET /analytics/predict/next-week`. */
export interface Prediction {
  forecast: { date: string; expected: number; low: number; high: number }[];
  total: number;
  model: {
    kind: string;
    trained_at: string;
    training_days: number;
    mape: number | null;
    baseline_mape: number | null;
  };
}

/** `GET /analytics/forms/:id/trends`. */
export interface Trends {
  this_week: number;
  last_week: number;
  change: number | null;
  anomalies: { date: string; count: number; expected: number }[];
}

/**
 * Forecasts and trends over daily completed counts. Models are stored per scope (a form, or
 * a whole workspace), retrained weekly by the worker and on demand when none fits today.
 * Reading trends writes nothing; the worker's daily scan (`scanAnomalies`) records each
 * newly seen anomaly and raises an `analytics.anomaly` event, so integrations can alert on it.
 */
export class InsightsService {
  constructor(
    private readonly db: Database,
    private readonly forms: FormService,
    /** Told after a commit that raised anomaly events (it wakes the relays: OutboxNotifier). */
    private readonly outbox: OutboxCommits = { committed: () => undefined },
  ) {}

  /** `signal`: the client's; its abort cancels the running query. */
  async predict(
    workspaceId: string,
    formId: string | undefined,
    now = new Date(),
    signal?: AbortSignal,
  ): Promise<Prediction> {
    if (formId) await this.forms.get(workspaceId, formId);
    const scope = formId ? `form:${formId}` : `workspace:${workspaceId}`;
    const today = utcDate(now);
    let model = await q.loadModel(withQueryTimeout(this.db, { signal }), scope);
    if (!model || model.forecast[0]?.date !== addDays(today, 1)) {
      model = await this.train(workspaceId, formId ?? null, now, signal);
    }
    return {
      forecast: model.forecast,
      total: forecastTotal(model),
      model: {
        kind: model.kind,
        trained_at: model.trained_at,
        training_days: model.training_days,
        mape: model.mape,
        baseline_mape: model.baseline_mape,
      },
    };
  }

  /** Trains and stores the model of a scope. */
  async train(
    workspaceId: string,
    formId: string | null,
    now = new Date(),
    signal?: AbortSignal,
  ): Promise<TrainedModel> {
    const series = await q.dailyCompleted(
      withQueryTimeout(this.db, { signal }),
      workspaceId,
      formId,
      TRAINING_DAYS,
      now,
    );
    const model = trainModel(series, { today: utcDate(now), now });
    await q.saveModel(
      this.db,
      formId ? `form:${formId}` : `workspace:${workspaceId}`,
      workspaceId,
      formId,
      model,
    );
    return model;
  }

  /** Retrains every stored model (the weekly job); answers how many. */
  async retrainAll(now = new Date()): Promise<number> {
    const scopes = await q.modelScopes(this.db);
    for (const scope of scopes) await this.train(scope.workspace_id, scope.form_id, now);
    return scopes.length;
  }

  /** Week-over-week change and the anomalies of the last 28 complete days; a pure read. */
  async trends(
    workspaceId: string,
    formId: string,
    now = new Date(),
    signal?: AbortSignal,
  ): Promise<Trends> {
    const form = await this.forms.get(workspaceId, formId);
    const today = utcDate(now);
    const series = await q.dailyCompleted(
      withQueryTimeout(this.db, { signal }),
      workspaceId,
      form.id,
      TREND_DAYS,
      now,
    );
    return { ...weekOverWeek(series, today), anomalies: anomaliesOf(series, today) };
  }

  /** Checks every recently active form for anomalies (the daily job); answers how many new. */
  async scanAnomalies(now = new Date()): Promise<number> {
    let found = 0;
    for (const form of await q.activeForms(this.db, 60, now)) {
      const series = await q.dailyCompleted(
        withQueryTimeout(this.db),
        form.workspace_id,
        form.id,
        TREND_DAYS,
        now,
      );
      const fresh = await this.recordNewAnomalies(
        form.workspace_id,
        form.id,
        anomaliesOf(series, utcDate(now)),
        now,
      );
      found += fresh.length;
    }
    return found;
  }

  /** Records anomalies and raises an event for each one not seen before; answers those. */
  private async recordNewAnomalies(
    workspaceId: string,
    formId: string,
    anomalies: Trends['anomalies'],
    now: Date,
  ) {
    const recorded = await this.db.transaction(async (tx) => {
      const inserted = await q.recordAnomalies(tx, formId, anomalies);
      for (const anomaly of inserted) {
        await writeEvent(tx, {
          id: uuidv7(),
          workspaceId,
          formId,
          type: 'analytics.anomaly',
          payload: { anomaly },
          createdAt: now,
        });
      }
      return inserted;
    });
    if (recorded.length > 0) this.outbox.committed();
    return recorded;
  }
}

/** The anomalies of the last 28 complete days before `today`. */
function anomaliesOf(
  series: Parameters<typeof detectAnomalies>[0],
  today: string,
): Trends['anomalies'] {
  return detectAnomalies(series, { today }).map((a) => ({
    date: a.date,
    count: a.count,
    expected: a.expected,
  }));
}
