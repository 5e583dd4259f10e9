// Sets a person's site password outside the site (the CLI, the demo): the site's length rule, hashed.
import { AppError } from '../../errors/index.ts';
import type { AirStore } from '../store/index.ts';
import { hashPassword, MIN_LOGIN_PASSWORD_LENGTH } from './password-hash.ts';

/** The site's rule for a login password (src/air/routes/site/admin.ts checks the same with zod). */
export function checkLoginPassword(password: string): void {
  if (password.length < MIN_LOGIN_PASSWORD_LENGTH || password.length > 1024) {
    throw new AppError('INVALID_PARAMETER', {
      detail: `A site password needs ${MIN_LOGIN_PASSWORD_LENGTH} to 1024 characters; this one has ${password.length}.`,
    });
  }
}

export async function setLoginPassword(
  store: AirStore,
  analystId: string,
  password: string,
): Promise<void> {
  checkLoginPassword(password);
  await store.organisations.setPasswordHash(analystId, await hashPassword(password));
}
