import { statements as initial } from './0001-initial.ts';

/** A schema change: applied once, in version order, inside one transaction. */
export interface Migration {
  version: number;
  name: string;
  statements: readonly string[];
}

/** Every migration, oldest first. Append new ones; never edit one that has shipped. */
export const migrations: readonly Migration[] = [{ version: 1, name: 'initial', statements: initial }];
