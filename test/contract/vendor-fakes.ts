import type { FakeAnswer, ServiceFake } from '@formhub/sdk';
import { startFakeSalesforce } from '../support/fakes/salesforce.ts';
import { contractFake as sheetsContractFake } from '../support/fakes/sheets.ts';
import { startFakeSlack, type FakeFailure } from '../support/fakes/slack.ts';
import { startHangingFront } from './hanging-front.ts';

/**
 * The vendor fakes of test/support/fakes/ as the contract's {@link ServiceFake}. Each
 * answers the contract's kinds the way its vendor does; see each function.
 */

/**
 * Slack's fake, holding `channel` and accepting `token`. Slack refuses a request with HTTP
 * 200 `{"ok": false, "error": "channel_not_found"}` (the contract's `4xx`), rate limits with
 * 429 and `Retry-After`, and fails with a 503; the fake cannot hang, so a front holds the
 * request instead. The fake cannot take back a programmed failure: one answer per fake.
 */
export async function slackContractFake(channel: string, token: string): Promise<ServiceFake> {
  const slack = await startFakeSlack({ channels: [channel], tokens: [token] });
  const front = await startHangingFront(new URL(slack.url).origin);
  const forever = Number.POSITIVE_INFINITY;
  const failures: Record<'4xx' | '429' | '5xx', FakeFailure> = {
    '4xx': { error: 'channel_not_found', times: forever },
    '429': { status: 429, retryAfter: 1, times: forever },
    '5xx': { status: 503, times: forever },
  };
  let answered: FakeAnswer = 'ok';
  return {
    baseUrl: front.baseUrl,
    respondWith(answer) {
      if (answered !== 'ok' && answered !== 'hang' && answer !== answered) {
        throw new Error('the Slack fake cannot take back a failure: start a new one');
      }
      answered = answer;
      front.hang = answer === 'hang';
      if (answer !== 'ok' && answer !== 'hang') slack.fail(failures[answer]);
    },
    received: front.received,
    close: async () => {
      await front.close();
      await slack.close();
    },
  };
}

/**
 * Salesforce's fake, accepting `token`: it speaks the contract itself (`4xx` a 400
 * REQUIRED_FIELD_MISSING, `429`, `5xx` a 503, `hang`).
 */
export function salesforceContractFake(token: string): Promise<ServiceFake> {
  return startFakeSalesforce({ tokens: [token] });
}

/** Google Sheets' fake: its own `contractFake` (any token, any spreadsheet). */
export const googleSheetsContractFake: () => Promise<ServiceFake> = sheetsContractFake;
