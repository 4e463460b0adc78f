/**
 * The Zapier app on a scoped key (DESIGN.md section 4b, docs/zapier.md "Scopes"): its
 * triggers, dropdowns and search work with `forms:read responses:read integrations:write`;
 * Create Response also needs `responses:write`; a key limited to one form shows only that
 * form. The app's own code runs through createAppTester against a listening hub.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHub } from '../support/hub.ts';
import { eventually, startReceiver, type Receiver } from '../support/receiver.ts';
import { call, scopedKey } from '../support/scoped-world.ts';
import { App, startListeningHub, zapierCore } from '../support/zapier-app.ts';

type Flat = Record<string, unknown>;
const ZAPIER_SCOPES = ['forms:read', 'responses:read', 'integrations:write'];

let hub: TestHub;
let baseUrl: string;
let owner: string;
let zapKey: string;
let formId: string;
let otherFormId: string;
let receiver: Receiver;
const appTester = zapierCore.createAppTester(App);
const authWith = (key: string) => ({ api_key: key, baseUrl });

beforeAll(async () => {
  ({ hub, baseUrl } = await startListeningHub());
  receiver = await startReceiver();
  owner = (await hub.workspace('Scoped Zap')).key;
  const fields = [
    { key: 'name', type: 'text', label: 'Name' },
    { key: 'age', type: 'integer' },
  ];
  formId = (await call(hub, owner, 'POST', '/api/v2/forms', { title: 'Zapped', fields }))
    .id as string;
  otherFormId = (await call(hub, owner, 'POST', '/api/v2/forms', { title: 'Other', fields }))
    .id as string;
  await call(hub, owner, 'POST', `/api/v2/forms/${formId}/responses`, {
    data: { name: 'Ada', age: 36 },
  });
  zapKey = await scopedKey(hub, owner, { scopes: ZAPIER_SCOPES });
});

afterAll(async () => {
  await receiver?.close();
  await hub?.close();
});

describe('the Zapier app with forms:read responses:read integrations:write', () => {
  it('authenticates and fills the form and field dropdowns', async () => {
    const me = (await appTester(App.authentication.test, { authData: authWith(zapKey) })) as {
      workspace: { name: string };
    };
    expect(me.workspace.name).toBe('Scoped Zap');
    const forms = (await appTester(App.triggers.form_list!.operation.perform!, {
      authData: authWith(zapKey),
    })) as { id: string }[];
    expect(forms.map((f) => f.id).sort()).toEqual([formId, otherFormId].sort());
    const choices = (await appTester(App.triggers.field_list!.operation.perform!, {
      authData: authWith(zapKey),
      inputData: { form_id: formId },
    })) as { id: string }[];
    expect(choices.map((c) => c.id)).toEqual(['name', 'age']);
  });

  it('subscribes the trigger, delivers to it, lists samples and unsubscribes', async () => {
    const trigger = App.triggers.new_response!.operation;
    const bundle = { authData: authWith(zapKey), inputData: { form_id: formId } };
    const subscribeData = (await appTester(trigger.performSubscribe!, {
      ...bundle,
      targetUrl: receiver.url,
    })) as { id: string };
    expect(subscribeData).toEqual({ id: expect.any(String) });
    await call(hub, owner, 'POST', `/api/v2/forms/${formId}/responses`, {
      data: { name: 'Grace', age: 40 },
    });
    // Ada's event may still be in the outbox when the hook is made (a busy relay), and then
    // reaches it too: wait for Grace's delivery, whichever comes first.
    const delivered = await eventually(async () =>
      receiver.requests
        .map((r) => JSON.parse(r.body) as Flat)
        .find((body) => body.name === 'Grace'),
    );
    expect(delivered).toMatchObject({ form_id: formId, name: 'Grace' });
    const listed = (await appTester(trigger.performList!, bundle)) as Flat[];
    expect(listed.map((r) => r.name)).toContain('Ada');
    await expect(
      appTester(trigger.performUnsubscribe!, { ...bundle, subscribeData }),
    ).resolves.toEqual({ id: subscribeData.id, deleted: true });
  });

  it('finds responses and asks for the input fields of Create Response', async () => {
    const found = (await appTester(App.searches.find_response!.operation.perform!, {
      authData: authWith(zapKey),
      inputData: { form_id: formId, field: 'name', value: 'Ada' },
    })) as Flat[];
    expect(found.map((r) => r.name)).toEqual(['Ada']);
    const inputs = (await appTester(App.creates.create_response!.operation.inputFields!, {
      authData: authWith(zapKey),
      inputData: { form_id: formId },
    })) as { key: string }[];
    expect(inputs.map((i) => i.key)).toEqual(['form_id', 'name', 'age']);
  });

  it('needs responses:write to create a response, and says so', async () => {
    const create = App.creates.create_response!.operation.perform!;
    const inputData = { form_id: formId, name: 'Zapped', age: 1 };
    await expect(appTester(create, { authData: authWith(zapKey), inputData })).rejects.toThrow(
      /\(403\).*responses:write/,
    );
    const writer = await scopedKey(hub, owner, { scopes: [...ZAPIER_SCOPES, 'responses:write'] });
    const created = (await appTester(create, { authData: authWith(writer), inputData })) as Flat;
    expect(created).toMatchObject({ form_id: formId, name: 'Zapped' });
  });

  it('cannot subscribe without integrations:write', async () => {
    const reader = await scopedKey(hub, owner, { scopes: ['forms:read', 'responses:read'] });
    await expect(
      appTester(App.triggers.new_response!.operation.performSubscribe!, {
        authData: authWith(reader),
        inputData: { form_id: formId },
        targetUrl: receiver.url,
      }),
    ).rejects.toThrow(/\(403\).*integrations:write/);
  });

  it('shows a key limited to one form only that form', async () => {
    const one = await scopedKey(hub, owner, { scopes: ZAPIER_SCOPES, form_ids: [formId] });
    const forms = (await appTester(App.triggers.form_list!.operation.perform!, {
      authData: authWith(one),
    })) as { id: string }[];
    expect(forms.map((f) => f.id)).toEqual([formId]);
    await expect(
      appTester(App.triggers.field_list!.operation.perform!, {
        authData: authWith(one),
        inputData: { form_id: otherFormId },
      }),
    ).rejects.toThrow(/\(404\)/);
  });
});
