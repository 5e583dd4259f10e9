// Creates the installation's first admin on first start; its password is shown once and never stored.
import { randomBytes } from 'node:crypto';
import type { AirStore } from '../store/index.ts';
import { hashPassword } from './password-hash.ts';

export const FIRST_ADMIN_EMAIL = 'admin@opencloak.local';
const ADMIN_ORG = 'Administration';

export interface InitialCredentials {
  email: string;
  password: string;
}

/** Returns the credentials only when it created the admin just now; later starts return nothing. */
export async function ensureFirstAdmin(store: AirStore): Promise<InitialCredentials | undefined> {
  if (await store.organisations.hasAdmin()) return undefined;
  const org =
    (await store.organisations.findByName(ADMIN_ORG)) ??
    (await store.organisations.create(ADMIN_ORG));
  const admin = await store.organisations.addAnalyst(
    org.id,
    FIRST_ADMIN_EMAIL,
    'Administrator',
    Date.now(),
    'admin',
  );
  const password = randomBytes(18).toString('base64url');
  await store.organisations.setPasswordHash(admin.id, await hashPassword(password));
  return { email: FIRST_ADMIN_EMAIL, password };
}
