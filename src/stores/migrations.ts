// Versioned schema steps of a store's tables: what each store's migrator (postgres/, questdb/) applies in order and
// records in te_schema_migrations (target table, version, name, applied_at, checksum).
import { createHash } from 'node:crypto';
import { SchemaError } from '../errors.js';

/** The table in each store that records applied steps, one row per (target bars table, version). */
export const MIGRATIONS_TABLE = 'te_schema_migrations';

export interface MigrationStep {
  version: number;
  name: string;
  /** Statements run in order; every one idempotent (IF NOT EXISTS), so a step re-run on a database that has it is harmless. */
  statements: string[];
}

export interface AppliedStep {
  version: number;
  name: string;
  checksum: string;
}

/** What a migration run found and did. */
export interface MigrationResult {
  store: string;
  target: string;
  /** Steps applied by this run (dry run: none). */
  applied: MigrationStep[];
  /** Steps still to apply (after a real run: none). */
  pending: MigrationStep[];
  /** The tables were there before any migration was recorded: their layout was checked and adopted. */
  adopted: boolean;
}

/** The checksum recorded for a step: its statements, so an edited step is noticed. */
export function stepChecksum(step: MigrationStep): string {
  return createHash('sha256').update(step.statements.join(';\n')).digest('hex').slice(0, 32);
}

/** The steps not yet applied, after checking that the applied ones are the engine's own. */
export function pendingSteps(store: string, target: string, steps: MigrationStep[], applied: AppliedStep[]): MigrationStep[] {
  const byVersion = new Map(steps.map((s) => [s.version, s]));
  for (const a of applied) {
    const step = byVersion.get(a.version);
    if (!step)
      throw new SchemaError(store, `${target} has migration ${a.version} (${a.name}) applied, which this engine does not know: a newer engine migrated it`);
    if (stepChecksum(step) !== a.checksum)
      throw new SchemaError(
        store,
        `${target}: migration ${a.version} (${a.name}) was applied with checksum ${a.checksum}, the engine's is ${stepChecksum(step)}`,
      );
  }
  const done = new Set(applied.map((a) => a.version));
  return steps.filter((s) => !done.has(s.version)).sort((a, b) => a.version - b.version);
}
