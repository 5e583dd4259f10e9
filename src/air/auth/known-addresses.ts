// Addresses each person logged in from recently, in air.db: the login limits never refuse these.
import type { SqlDb } from '../../store/index.ts';

/** An address stays known this long after its last successful login. */
export const KNOWN_ADDRESS_MS = 30 * 24 * 3600_000;
/** The addresses kept per person; the least recently used goes first. */
export const MAX_KNOWN_ADDRESSES = 20;

/**
 * Kept in the database, not in memory, so a restart during a flood of logins does not lock people
 * out of the addresses they use. Only a successful login adds an address.
 */
export class KnownAddresses {
  constructor(private readonly db: SqlDb) {}

  async isKnown(analystId: string, address: string, now = Date.now()): Promise<boolean> {
    const row = await this.db.get<{ at: number }>(
      'SELECT last_login_at AS at FROM login_addresses WHERE analyst_id = ? AND address = ?',
      [analystId, address],
    );
    return row !== undefined && now - row.at < KNOWN_ADDRESS_MS;
  }

  async remember(analystId: string, address: string, now = Date.now()): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.run(
        `INSERT INTO login_addresses (analyst_id, address, last_login_at) VALUES (?, ?, ?)
           ON CONFLICT (analyst_id, address) DO UPDATE SET last_login_at = excluded.last_login_at`,
        [analystId, address, now],
      );
      await tx.run(
        `DELETE FROM login_addresses WHERE analyst_id = ? AND address NOT IN (
           SELECT address FROM login_addresses WHERE analyst_id = ?
             ORDER BY last_login_at DESC LIMIT ?)`,
        [analystId, analystId, MAX_KNOWN_ADDRESSES],
      );
    });
  }
}
