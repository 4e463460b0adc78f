/**
 * Conditions (DESIGN.md section 4a): a DSL filter per integration, checked against each
 * event's response when the relay fans events out; NULL is no condition (every event).
 */
export const statements = [`ALTER TABLE integrations ADD COLUMN condition jsonb`];
