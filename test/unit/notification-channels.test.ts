import { describe, expect, it } from 'vitest';
import type { ErrorDetail } from '../../src/errors/index.ts';
import {
  checkChannel,
  emailOf,
  payloadOf,
  slackTextOf,
  type ChannelInput,
} from '../../src/notifications/index.ts';

function problems(input: ChannelInput, allowPrivate = false): string[] {
  const details: ErrorDetail[] = [];
  checkChannel(input, allowPrivate, details);
  return details.map((d) => `${d.field}: ${d.message}`);
}

describe('checkChannel', () => {
  it('refuses webhook targets the webhook SSRF guard refuses, unless private targets are allowed', () => {
    for (const target of [
      'http://127.0.0.1/hook',
      'http://0x7f.1/',
      'http://169.254.169.254/latest',
      'http://10.0.0.8/',
      'http://[::1]/',
      'http://localhost:8080/',
      'http://metadata.internal/',
    ]) {
      expect(problems({ kind: 'webhook', target }), target).toEqual([
        'target: target address not allowed',
      ]);
      expect(problems({ kind: 'webhook', target }, true), target).toEqual([]);
    }
    expect(problems({ kind: 'webhook', target: 'https://hooks.example.com/ops' })).toEqual([]);
    expect(problems({ kind: 'webhook', target: 'ftp://example.com/' }, true)).toEqual([
      'target: only http and https URLs are allowed',
    ]);
  });

  it('takes one e-mail address, and Slack channel names and ids', () => {
    expect(problems({ kind: 'email', target: 'ops@example.com' })).toEqual([]);
    for (const target of ['ops', 'a@b', 'a b@example.com', 'a@example.com, b@example.com'])
      expect(problems({ kind: 'email', target }), target).toEqual([
        'target: must be one e-mail address',
      ]);
    const token = { token: 'xoxb-1' };
    for (const target of ['#ops-alerts', 'ops_alerts', 'C0123456', 'G01ABCDEF'])
      expect(problems({ kind: 'slack', target, config: token }), target).toEqual([]);
    for (const target of ['#Ops', 'has space', '#', 'x'.repeat(81)])
      expect(problems({ kind: 'slack', target, config: token })[0], target).toMatch(/^target: /);
  });

  it('defaults events to all three, deduplicates them, and wants a token for Slack only', () => {
    const details: ErrorDetail[] = [];
    expect(checkChannel({ kind: 'email', target: 'a@example.com' }, false, details).events).toEqual(
      ['integration.disabled', 'integration.recovered', 'delivery.dead'],
    );
    expect(
      checkChannel(
        { kind: 'email', target: 'a@example.com', events: ['delivery.dead', 'delivery.dead'] },
        false,
        details,
      ).events,
    ).toEqual(['delivery.dead']);
    expect(details).toEqual([]);
    expect(problems({ kind: 'email', target: 'a@example.com', events: [] })).toEqual([
      'events: must name at least one operational event',
    ]);
    expect(problems({ kind: 'slack', target: '#ops' })).toEqual([
      'config.token: a Slack channel needs a bot token',
    ]);
    expect(
      problems({ kind: 'webhook', target: 'https://example.com/', config: { token: 'x' } }),
    ).toEqual(['config: only a Slack channel takes a config']);
  });
});

describe('operational event messages', () => {
  const event = {
    id: '7f0c8c1e-3c55-4a52-9a0e-0d6c1f0e9a11',
    workspace_id: '01a250f4-54d0-77d5-a07f-661f9489e559',
    type: 'delivery.dead' as const,
    integration_id: '01a250f4-5652-746e-9c98-40196e4524fd',
    connector: 'webhook',
    delivery_id: '01a250f4-6000-7000-8000-000000000001',
    delivery_event: 'response.submitted',
    reason: 'the receiver answered 500',
    created_at: new Date('2026-12-07T14:00:00.000Z'),
    integration_url: 'https://hooks.example.com/x',
  };

  it('has the documented payload shape; optional parts only when there is something', () => {
    expect(payloadOf(event)).toEqual({
      type: 'delivery.dead',
      id: event.id,
      created_at: '2026-12-07T14:00:00.000Z',
      workspace_id: event.workspace_id,
      integration: { id: event.integration_id, connector: 'webhook', url: event.integration_url },
      delivery: { id: event.delivery_id, event: 'response.submitted' },
      reason: 'the receiver answered 500',
    });
    const bare = payloadOf({
      ...event,
      type: 'integration.recovered',
      connector: 'slack',
      delivery_id: null,
      delivery_event: null,
      reason: null,
      integration_url: undefined,
    });
    expect(Object.keys(bare).sort()).toEqual([
      'created_at',
      'id',
      'integration',
      'type',
      'workspace_id',
    ]);
    expect(bare.integration).toEqual({ id: event.integration_id, connector: 'slack' });
  });

  it('says what happened in the e-mail and the Slack text', () => {
    const mail = emailOf(payloadOf(event));
    expect(mail.subject).toBe(
      `[formhub] A delivery of the webhook integration ${event.integration_id} is dead`,
    );
    expect(mail.text).toContain(`Delivery: ${event.delivery_id} (response.submitted)`);
    expect(mail.text).toContain('Reason: the receiver answered 500');
    expect(mail.text).toContain('/api/v2/deliveries/{id}/replay');
    const text = slackTextOf(payloadOf(event));
    expect(text.split('\n')[0]).toBe(
      `:warning: *A delivery of the webhook integration ${event.integration_id} is dead*`,
    );
    expect(text).toContain(`• URL: ${event.integration_url}`);
    const hostile = slackTextOf(payloadOf({ ...event, reason: '<!channel> & <https://x|y>' }));
    expect(hostile).toContain('• Reason: &lt;!channel&gt; &amp; &lt;https://x|y&gt;');
  });
});
