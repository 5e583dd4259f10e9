// Servers sharing a PostgreSQL cloak store must hold one noise secret: a check of it, kept in that database.
import { createHmac } from 'node:crypto';
import { AppError } from '../errors/index.ts';
import { runMigrations, type MigrationStep, type SqlDb } from '../store/index.ts';

export const INSTALLATION_COMPONENT = 'cloak-installation';

/*
 * Why. Every server keeps the noise secret as a file of its own data directory. A server started
 * with another secret than its peers (a fresh data directory whose operator forgot to copy it, or
 * two fresh servers started at once, each making one) would key every user differently: its
 * participation budget would charge ledger rows no other server reads, so a user's budget would be
 * spent once per secret, and its noise would differ for the same question. So the first server on
 * a database records a check of its secret, and every server compares its own with it at start.
 *
 * The check is an HMAC of a fixed label under the secret: it identifies the secret and tells
 * nothing about it (nor about any noise draw, whose HMAC inputs never equal the label).
 */
const LABEL = 'opencloak: the noise secret of this installation, v1';

const STEPS: readonly MigrationStep[] = [
  {
    version: 1,
    name: 'installation-secret-check',
    up: `CREATE TABLE IF NOT EXISTS cloak_installation (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      secret_check TEXT NOT NULL
    )`,
  },
];

/** Records the secret's check if none is there; refuses a secret whose check differs. */
export async function checkInstallationSecret(
  db: SqlDb,
  secret: Uint8Array,
  file: string,
): Promise<void> {
  await runMigrations(db, INSTALLATION_COMPONENT, STEPS);
  const mine = createHmac('sha256', secret).update(LABEL).digest('hex');
  await db.run(
    'INSERT INTO cloak_installation (id, secret_check) VALUES (1, ?) ON CONFLICT (id) DO NOTHING',
    [mine],
  );
  const row = await db.get<{ check: string }>(
    'SELECT secret_check AS "check" FROM cloak_installation WHERE id = 1',
  );
  if (row?.check !== mine) throw new AppError('NOISE_SECRET_MISMATCH', { file });
}
