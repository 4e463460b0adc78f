/**
 * Scoped API keys (DESIGN.md section 4b): `scopes` lists what a key may do and `form_ids`
 * the forms it may reach. NULL means all of them, so every key made before keeps all.
 */
export const statements = [
  `ALTER TABLE api_keys ADD COLUMN scopes text[]`,
  `ALTER TABLE api_keys ADD COLUMN form_ids uuid[]`,
];
