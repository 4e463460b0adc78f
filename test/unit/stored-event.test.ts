import { describe, expect, it } from 'vitest';
import { loadEvent, storedEvent } from '../../src/delivery/stored-event.ts';

const response = {
  id: '0190f0e0-0000-7000-8000-000000000001',
  form_id: '0190f0e0-0000-7000-8000-000000000002',
  data: { name: 'Ada', tags: ['a', 'b'] },
  completed: true,
  submitted_at: '2026-11-29T00:00:00.000Z',
  updated_at: '2026-11-29T00:00:00.000Z',
  metadata: {},
};
const event = {
  id: '0190f0e0-0000-7000-8000-000000000003',
  type: 'response.submitted' as const,
  created_at: '2026-11-29T00:00:00.000Z',
  form: { id: response.form_id, title: 'T' },
  response,
  data: response.data,
};

describe('stored events', () => {
  it('keep the answers once and give plugins `data` back', () => {
    const text = storedEvent(event);
    expect(JSON.parse(text)).not.toHaveProperty('data');
    expect(text.split('"Ada"')).toHaveLength(2); // the answers are stored once
    expect(loadEvent(JSON.parse(text))).toEqual(event);
  });

  it('read rows stored with `data` as they are', () => {
    const legacy = JSON.parse(JSON.stringify({ ...event, data: { other: 1 } }));
    expect(loadEvent(legacy).data).toEqual({ other: 1 });
  });

  it('give an event without a response an empty `data`', () => {
    const anomaly = {
      id: event.id,
      type: 'analytics.anomaly',
      created_at: event.created_at,
      form: event.form,
      anomaly: { metric: 'x' },
    };
    expect(loadEvent(JSON.parse(storedEvent(anomaly))).data).toEqual({});
  });
});
