import {
  flattenResponse,
  FormPlugin,
  PermanentError,
  type FormEvent,
  type PluginContext,
} from '@formhub/sdk';
import { rowFor, type ColumnMapping } from './cells.ts';
import { isUnauthorized, toPluginError } from './google-error.ts';
import {
  appendRow,
  DEFAULT_ROOT_URL,
  openSheets,
  readHeader,
  type SheetsTransport,
} from './sheet-writer.ts';

export interface GoogleSheetsConfig {
  spreadsheet_id: string;
  /** The tab to append to; default `Sheet1`. */
  sheet?: string;
  columns: ColumnMapping[];
  /** An OAuth access token, when the integration has no Nango `connection_id`. */
  token?: string;
}

const DEFAULT_SHEET = 'Sheet1';

/**
 * Google Sheets: appends one row per submitted response to a spreadsheet's tab
 * (`spreadsheets.values.append`, `USER_ENTERED`, `INSERT_ROWS`), columns mapped from the
 * response's fields, calculated fields, `id` and `submitted_at`. Writes the header row when
 * row 1 is blank. With `id` mapped, a retried or replayed delivery whose row is already in
 * the sheet is not appended again (README.md, "Idempotency").
 */
export default class GoogleSheetsPlugin extends FormPlugin<GoogleSheetsConfig> {
  readonly metadata = {
    id: 'google-sheets',
    name: 'Google Sheets',
    version: '1.0.0',
    description:
      'Appends one row per response to a Google Sheets spreadsheet, with mapped columns.',
    configSchema: {
      type: 'object',
      required: ['spreadsheet_id', 'columns'],
      additionalProperties: false,
      properties: {
        spreadsheet_id: {
          type: 'string',
          pattern: '^[A-Za-z0-9_-]+$',
          description:
            'The id in the spreadsheet URL: https://docs.google.com/spreadsheets/d/<id>/edit',
        },
        sheet: {
          type: 'string',
          minLength: 1,
          maxLength: 100,
          default: DEFAULT_SHEET,
          description: 'The tab to append to',
        },
        columns: {
          type: 'array',
          minItems: 1,
          maxItems: 500,
          description:
            'One entry per column, left to right. Map `id` so that replays never add a second row.',
          items: {
            type: 'object',
            required: ['header', 'field'],
            additionalProperties: false,
            properties: {
              header: { type: 'string', maxLength: 1000 },
              field: {
                type: 'string',
                pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$',
                description: 'A data key, a calculated field, or id / form_id / submitted_at',
              },
            },
          },
        },
        token: {
          type: 'string',
          writeOnly: true,
          description: 'OAuth access token, when no Nango connection is used',
        },
      },
    },
  };

  override async onResponseSubmitted(
    event: FormEvent,
    ctx: PluginContext<GoogleSheetsConfig>,
  ): Promise<void> {
    const { config } = ctx;
    const sheet = config.sheet ?? DEFAULT_SHEET;
    const plan = {
      spreadsheetId: config.spreadsheet_id,
      sheet,
      columns: config.columns,
      row: rowFor(config.columns, flattenResponse(event.response)),
      // The first attempt cannot have written the row before; later ones and replays may have.
      dedupe: ctx.attempt > 1 ? { responseId: event.response.id } : undefined,
    };
    const result = await withTokenRefresh(ctx, (transport) => {
      const { api, options } = openSheets(transport);
      return appendRow(api, options, plan, ctx.logger);
    });
    if (result.appended) ctx.logger.info('row appended', { range: result.updatedRange });
    else
      ctx.logger.info('row already in the sheet; not appended again', {
        sheet,
        row: result.foundInRow,
      });
  }

  /** `POST /integrations/:id/test`: proves token, spreadsheet and tab by reading row 1; writes nothing. */
  override async onTest(_event: FormEvent, ctx: PluginContext<GoogleSheetsConfig>): Promise<void> {
    const sheet = ctx.config.sheet ?? DEFAULT_SHEET;
    await withTokenRefresh(ctx, (transport) => {
      const { api, options } = openSheets(transport);
      return readHeader(api, options, ctx.config.spreadsheet_id, sheet);
    });
  }
}

/**
 * Runs `work` with the current access token; on a 401 refreshes the credentials once
 * (Nango issues a new token) and runs it once more within the same attempt. A second 401,
 * or a token that cannot be refreshed (one given in the config), is permanent: the Google
 * account must be reconnected, then the delivery replayed. Any failure becomes an SDK error.
 */
async function withTokenRefresh<T>(
  ctx: PluginContext<GoogleSheetsConfig>,
  work: (transport: SheetsTransport) => Promise<T>,
): Promise<T> {
  const rootUrl = ctx.settings.GOOGLE_API_ROOT_URL ?? DEFAULT_ROOT_URL;
  const first = accessTokenOf(ctx.credentials.accessToken);
  try {
    return await work({ accessToken: first, rootUrl, signal: ctx.signal, http: ctx.http });
  } catch (error) {
    if (!isUnauthorized(error)) throw toPluginError(error);
  }
  const refreshed = (await ctx.refreshCredentials()).accessToken;
  if (!refreshed || refreshed === first) {
    throw new PermanentError(
      'Google Sheets answered 401: the access token was refused and no new one could be obtained',
      {
        statusCode: 401,
      },
    );
  }
  try {
    return await work({ accessToken: refreshed, rootUrl, signal: ctx.signal, http: ctx.http });
  } catch (error) {
    if (!isUnauthorized(error)) throw toPluginError(error);
    throw new PermanentError(
      'Google Sheets answered 401 even with a freshly refreshed token: reconnect the Google account',
      {
        statusCode: 401,
      },
    );
  }
}

function accessTokenOf(token: string | undefined): string {
  if (token) return token;
  throw new PermanentError(
    'no Google access token: give the integration a Nango connection_id or a config token',
  );
}
