import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestHub } from '../support/hub.ts';
import { App, recordConnections, startListeningHub, zapierCore } from '../support/zapier-app.ts';

type Flat = Record<string, unknown>;

const FIELDS = [
  { key: 'name', type: 'text', label: 'Full name', required: true },
  { key: 'age', type: 'integer', label: 'Age' },
  { key: 'score', type: 'number', label: 'Score' },
  { key: 'subscribed', type: 'boolean', label: 'Subscribed?' },
  { key: 'department', type: 'select', label: 'Department', options: ['IT', 'HR', 'Sales'] },
  { key: 'tags', type: 'multiselect', label: 'Tags', options: ['a', 'b', 'c'] },
  { key: 'born', type: 'date', label: 'Birthday' },
  { key: 'seen', type: 'datetime', label: 'Last seen' },
  { key: 'stars', type: 'rating', label: 'Stars', max: 5 },
  { key: 'notes', type: 'textarea' },
];

describe('the Zapier app: "Find Response" and "Create Response" against a running hub', () => {
  let hub: TestHub;
  let baseUrl: string;
  let key: string;
  let formId: string;
  const appTester = zapierCore.createAppTester(App);
  const auth = () => ({ api_key: key, baseUrl });
  const connections = recordConnections();
  const search = App.searches.find_response!.operation;
  const create = App.creates.create_response!.operation;

  beforeAll(async () => {
    ({ hub, baseUrl } = await startListeningHub());
    ({ key } = await hub.workspace('Action workspace'));
    const form = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key,
      payload: { title: 'Action form', fields: FIELDS },
    });
    expect(form.statusCode, form.body).toBe(201);
    formId = form.json().id;
  });

  afterAll(async () => {
    connections.stop();
    await hub?.close();
  });

  const find = (field: string, value: string, form = formId) =>
    appTester(search.perform!, {
      authData: auth(),
      inputData: { form_id: form, field, value },
    }) as Promise<Flat[]>;

  const createWith = (inputData: Flat) =>
    appTester(create.perform!, {
      authData: auth(),
      inputData: { form_id: formId, ...inputData },
    }) as Promise<Flat>;

  it("asks for the form's fields: types, required and choices as the form declares them", async () => {
    const inputs = await appTester(create.inputFields!, {
      authData: auth(),
      inputData: { form_id: formId },
    });
    expect(inputs).toEqual([
      expect.objectContaining({ key: 'form_id', required: true, altersDynamicFields: true }),
      { key: 'name', label: 'Full name', type: 'string', required: true },
      { key: 'age', label: 'Age', type: 'integer', required: false },
      { key: 'score', label: 'Score', type: 'number', required: false },
      { key: 'subscribed', label: 'Subscribed?', type: 'boolean', required: false },
      {
        key: 'department',
        label: 'Department',
        type: 'string',
        required: false,
        choices: ['IT', 'HR', 'Sales'],
      },
      {
        key: 'tags',
        label: 'Tags',
        type: 'string',
        required: false,
        choices: ['a', 'b', 'c'],
        list: true,
        helpText: expect.any(String),
      },
      expect.objectContaining({ key: 'born', type: 'string', helpText: 'A date, YYYY-MM-DD.' }),
      { key: 'seen', label: 'Last seen', type: 'datetime', required: false },
      expect.objectContaining({
        key: 'stars',
        type: 'integer',
        helpText: expect.stringMatching(/1 to 5/),
      }),
      { key: 'notes', label: 'notes', type: 'text', required: false },
    ]);
  });

  it('creates a response from mapped text, typed as the form wants, visible through the API', async () => {
    const created = await createWith({
      name: 'Ada',
      age: '36',
      score: ' 9.5 ',
      subscribed: 'yes',
      department: 'IT',
      tags: 'a, c',
      born: '1815-12-10',
      notes: '',
    });
    expect(Object.keys(created).slice(0, 3)).toEqual(['id', 'form_id', 'submitted_at']);
    expect(created).toEqual({
      id: expect.any(String),
      form_id: formId,
      submitted_at: expect.any(String),
      name: 'Ada',
      age: 36,
      score: 9.5,
      subscribed: true,
      department: 'IT',
      tags: ['a', 'c'],
      born: '1815-12-10',
    });
    const stored = await hub.request({
      method: 'GET',
      url: `/api/v2/responses/${created.id as string}`,
      key,
    });
    expect(stored.statusCode, stored.body).toBe(200);
    expect(stored.json()).toMatchObject({
      id: created.id,
      completed: true,
      submitted_at: created.submitted_at,
      data: { name: 'Ada', age: 36, score: 9.5, subscribed: true, tags: ['a', 'c'] },
    });
    // A list from Zapier stays a list.
    const listed = await createWith({ name: 'Grace', tags: ['b'], subscribed: false });
    expect(listed).toMatchObject({ name: 'Grace', tags: ['b'], subscribed: false });
  });

  it("a create the form refuses fails with formhub's reasons", async () => {
    await expect(createWith({ age: 'forty' })).rejects.toThrow(
      /formhub: the response breaks the form rules \(422\): .*age: .*name: |formhub: .*\(422\): .*name: .*age: /,
    );
  });

  it('finds responses by text, number, boolean and multiselect option, newest first', async () => {
    const grace = await createWith({ name: 'Grace', age: '85', subscribed: 'no', tags: 'b' });
    const alan = await createWith({ name: 'alan', age: '41', department: 'HR', tags: ['a', 'b'] });
    expect((await find('name', 'ALAN')).map((r) => r.id)).toEqual([alan.id]);
    expect((await find('age', '85')).map((r) => r.id)).toEqual([grace.id]);
    expect((await find('subscribed', 'false')).map((r) => r.name)).toEqual(['Grace', 'Grace']);
    expect((await find('tags', 'b')).map((r) => r.id).slice(0, 2)).toEqual([alan.id, grace.id]);
    expect(await find('department', 'sales')).toEqual([]);
    const [found] = await find('department', 'hr');
    expect(found).toEqual(alan);
  });

  it("the field dropdown lists the form's fields; an unknown field is refused by name", async () => {
    const choices = (await appTester(App.triggers.field_list!.operation.perform!, {
      authData: auth(),
      inputData: { form_id: formId },
    })) as { id: string; label: string }[];
    expect(choices.map((c) => [c.id, c.label])).toEqual(
      FIELDS.map((f) => [f.key, f.label ?? f.key]),
    );
    await expect(find('nope', 'x')).rejects.toThrow(
      /formhub: field is not a field of this form \(422\): field: .*nope.* is not a field/,
    );
    await expect(find('age', 'forty')).rejects.toThrow(/\(422\): value: must be a number/);
  });

  it("another workspace's form is not found, by the search or the create", async () => {
    const other = await hub.workspace('Other');
    const foreign = await hub.request({
      method: 'POST',
      url: '/api/v2/forms',
      key: other.key,
      payload: { title: 'Not yours', fields: FIELDS },
    });
    const foreignId = foreign.json().id as string;
    await expect(find('name', 'Ada', foreignId)).rejects.toThrow(/\(404\)/);
    await expect(
      appTester(create.perform!, {
        authData: auth(),
        inputData: { form_id: foreignId, name: 'Intruder' },
      }),
    ).rejects.toThrow(/\(404\)/);
    const theirs = await hub.request({
      method: 'GET',
      url: `/api/v2/forms/${foreignId}/responses`,
      key: other.key,
    });
    expect(theirs.json().data).toEqual([]);
  });

  it('kept all of its traffic local', () => {
    expect(connections.nonLocal()).toEqual([]);
    expect(connections.hosts.has('127.0.0.1')).toBe(true);
  });
});
