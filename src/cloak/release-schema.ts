// The release schedule's table in the cloak's database (each organisation's epoch), as migration steps.
import { runMigrations, type MigrationStep, type SqlDb } from '../store/index.ts';
import { addMissingColumns, legacyWhenAnyOf } from './legacy-tables.ts';

export const RELEASE_COMPONENT = 'cloak-release';

function steps(now: () => number): MigrationStep[] {
  return [
    {
      version: 1,
      name: 'release-epochs',
      up: {
        sqlite: `CREATE TABLE IF NOT EXISTS release_epochs (
          org_id TEXT PRIMARY KEY,
          epoch INTEGER NOT NULL,
          raised_at INTEGER NOT NULL
        ) STRICT`,
        postgres: `CREATE TABLE IF NOT EXISTS release_epochs (
          org_id TEXT PRIMARY KEY,
          epoch INTEGER NOT NULL,
          raised_at BIGINT NOT NULL
        )`,
      },
    },
    {
      version: 2,
      name: 'release-epochs-of-older-releases',
      up: async (tx) => {
        // cloak.db files from before the epoch could fall have no `raised_at`: their epochs count
        // as raised at the upgrade, so an upgrade lets no extra slow runs through.
        const added = await addMissingColumns(tx, [
          ['release_epochs', 'raised_at', 'INTEGER NOT NULL DEFAULT 0'],
        ]);
        if (added.size > 0) await tx.run('UPDATE release_epochs SET raised_at = ?', [now()]);
      },
    },
  ];
}

/** Brings the release schedule's table to the current version; `now` dates adopted epochs. */
export async function migrateReleaseTables(db: SqlDb, now: () => number): Promise<void> {
  await runMigrations(db, RELEASE_COMPONENT, steps(now), {
    legacyVersion: legacyWhenAnyOf('release_epochs'),
  });
}
