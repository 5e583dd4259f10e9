// The participation budget on the site, in Debian's Chromium: the notice beside a result, "Preview cost" on the task page, and the Budget page.
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ANONYMIZER_SETTINGS } from '../../src/anonymizer/index.ts';
import { hashPassword } from '../../src/air/auth/password-hash.ts';
import {
  ensureSiteBuilt,
  launchChromium,
  SCREENSHOTS,
  UNLABELLED_CONTROLS,
} from '../support/browser.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';
import { priceOf } from '../../src/cloak/budget-pricing.ts';

/** Far above the second notice's noise (sd 37): its warning shows whatever the secret. */
const USERS = 400;
/** Room for one fresh bucket of 400 users each (sd 28: 0.00064), and not for two. */
const ONE_BUCKET = 1.5 * priceOf(USERS, DEFAULT_ANONYMIZER_SETTINGS);
const EMAIL = 'bea@example.test';
const PASSWORD = 'bea-password-123';

describe('the participation budget on the site', () => {
  let inst: TestInstallation;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const token: Record<string, string> = {};
  const taskId: Record<string, number> = {};

  const shot = async (name: string) => {
    expect(await page.evaluate<string[]>(UNLABELLED_CONTROLS), `unlabelled on ${name}`).toEqual([]);
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    ensureSiteBuilt();
    inst = await startTestInstallation({
      privacy: { releaseSchedule: false, participationRho: ONE_BUCKET },
    });
    const orgId = await inst.createOrg('Bea Labs');
    const { organisations } = inst.platform.air;
    const bea = await organisations.addAnalyst(orgId, EMAIL, 'Bea');
    await organisations.setPasswordHash(bea.id, await hashPassword(PASSWORD));
    const { data } = inst.platform.cloak;
    await data.createTable(orgId, { name: 'people', columns: [{ name: 'city', type: 'text' }] });
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < USERS; u++) rows[`u${u}`] = { people: [{ city: 'Oslo' }] };
    await data.insert(orgId, rows);
    for (const label of ['first', 'second']) {
      const task = await inst.platform.tasks.create(
        orgId,
        {
          name: label,
          type: 'batch',
          code: `report_property(${JSON.stringify(label)}, tables.people[0].city);`,
          prefetch: [{ table: 'people' }],
        },
        { actor: `analyst:${bea.id}`, personId: bea.id },
      );
      token[label] = task.token;
      taskId[label] = task.id;
    }
    // Everyone spends their budget on the first task's bucket.
    await inst.platform.tasks.runBatch(orgId, token.first!);
    chromium = await launchChromium();
    page = await chromium.context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(inst.platform.webUrl);
    await page.getByLabel('E-mail').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('navigation', { name: 'Main' }).waitFor();
  });
  afterAll(async () => {
    await chromium?.close();
    await inst?.stop();
  });

  it('shows the run’s notice quietly beside a result that lost nobody', async () => {
    await page.goto(`${inst.platform.webUrl}/#/results/${token.first}`);
    const quiet = page.getByLabel('Participation budget', { exact: true }).first();
    await quiet.waitFor();
    expect(await quiet.textContent()).toMatch(
      /^Too few users left out by the participation budget/,
    );
    expect(await page.locator('.budget-warning').count()).toBe(0);
    await shot('results-budget-notice');
  });

  it('previews the second task: a warning that it would leave users out, and nothing published', async () => {
    await page.goto(`${inst.platform.webUrl}/#/tasks/${token.second}`);
    await page.getByRole('button', { name: 'Preview cost' }).click();
    const warning = page.locator('.budget-warning');
    await warning.waitFor();
    expect(await warning.textContent()).toMatch(
      /^Counts may be low\. This task would leave out about \d+ users/,
    );
    await shot('task-preview-cost');
    expect(await inst.platform.air.results.count(taskId.second!)).toBe(0);
  });

  it('lists both notices on the Budget page, reached from the navigation', async () => {
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Budget' })
      .click();
    await page.getByRole('heading', { name: 'Participation budget' }).waitFor();
    const rows = page.getByRole('table', { name: 'Budget notices' }).locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    expect(await rows.nth(0).locator('td').nth(1).textContent()).toBe('cost preview');
    expect(await rows.nth(0).locator('td').nth(5).textContent()).toBe('yes');
    expect(await rows.nth(1).locator('td').nth(1).textContent()).toBe('run');
    expect(await page.getByLabel('Budget settings').textContent()).toContain(
      'Notices this period2',
    );
    await shot('budget');
  });
});
