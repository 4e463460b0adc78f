import { statements as initial } from './0001-initial.ts';
import { statements as delivery } from './0002-delivery.ts';
import { statements as analytics } from './0003-analytics.ts';
import { statements as exportsReports } from './0004-exports-reports.ts';
import { statements as deliverySchedule } from './0005-delivery-schedule.ts';
import { statements as nangoConnectionOwners } from './0006-nango-connection-owners.ts';
import { statements as idempotencyAnswer } from './0007-idempotency-answer.ts';
import { statements as exportLimits } from './0008-export-limits.ts';
import { statements as integrationConditions } from './0009-integration-conditions.ts';
import { statements as workspaceIntegrations } from './0010-workspace-integrations.ts';
import { statements as deliveryPolicy } from './0011-delivery-policy.ts';
import { statements as auditLog } from './0012-audit-log.ts';
import { statements as retention } from './0013-retention.ts';
import { statements as notifications } from './0014-notifications.ts';
import { statements as deliveryStats } from './0015-delivery-stats.ts';
import { statements as scopedKeys } from './0016-scoped-keys.ts';
import { statements as erasures } from './0017-erasures.ts';
import { statements as artifacts } from './0018-artifacts.ts';
import { statements as traceContext } from './0020-trace-context.ts';
import { statements as connectorVersions } from './0021-connector-versions.ts';
import { statements as deliveryPayloads } from './0023-delivery-payloads.ts';

/** A schema change: applied once, in version order, inside one transaction. */
export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

/** Every migration, oldest first. Append new ones; never edit one that has shipped. */
export const migrations: readonly Migration[] = [
  { version: 1, name: 'initial', statements: initial },
  { version: 2, name: 'delivery', statements: delivery },
  { version: 3, name: 'analytics', statements: analytics },
  { version: 4, name: 'exports-reports', statements: exportsReports },
  { version: 5, name: 'delivery-schedule', statements: deliverySchedule },
  { version: 6, name: 'nango-connection-owners', statements: nangoConnectionOwners },
  { version: 7, name: 'idempotency-answer', statements: idempotencyAnswer },
  { version: 8, name: 'export-limits', statements: exportLimits },
  { version: 9, name: 'integration-conditions', statements: integrationConditions },
  { version: 10, name: 'workspace-integrations', statements: workspaceIntegrations },
  { version: 11, name: 'delivery-policy', statements: deliveryPolicy },
  { version: 12, name: 'audit-log', statements: auditLog },
  { version: 13, name: 'retention', statements: retention },
  { version: 14, name: 'notifications', statements: notifications },
  { version: 15, name: 'delivery-stats', statements: deliveryStats },
  { version: 16, name: 'scoped-keys', statements: scopedKeys },
  { version: 17, name: 'erasures', statements: erasures },
  { version: 18, name: 'artifacts', statements: artifacts },
  { version: 20, name: 'trace-context', statements: traceContext },
  { version: 21, name: 'connector-versions', statements: connectorVersions },
  { version: 23, name: 'delivery-payloads', statements: deliveryPayloads },
];
