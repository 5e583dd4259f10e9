// The analyst web site in Debian's Chromium: onboarding, key download (the .pfx then works on the
// REST API), a task tried, saved and run with its chart, revocation, admin; screenshots of each page.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/air/auth/password-hash.ts';
import {
  ensureSiteBuilt,
  launchChromium,
  SCREENSHOTS,
  UNLABELLED_CONTROLS,
} from '../support/browser.ts';
import { refusal } from '../support/https-client.ts';
import { startTestInstallation, type TestInstallation } from '../support/installation.ts';

// 100 users per group: each group's bucket is published (the noisy count must reach 43).
const USERS = 300;
const EMAIL = 'ada@example.test';
const PASSWORD = 'ada-password-123';
const KEY_PASSWORD = 'browser-key-pass';

describe('analyst web site in Chromium', () => {
  let inst: TestInstallation;
  let orgId: string;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let context: BrowserContext;
  let page: Page;
  let pfx: Buffer;
  /** Errors the page logs: a Content-Security-Policy violation shows up here. */
  const consoleErrors: string[] = [];

  /** Saves a screenshot of the page, after checking that every control on it has a name. */
  const shot = async (name: string) => {
    expect(await page.evaluate<string[]>(UNLABELLED_CONTROLS), `unlabelled on ${name}`).toEqual([]);
    expect(
      consoleErrors.filter((e) => /Content.Security.Policy/i.test(e)),
      name,
    ).toEqual([]);
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };

  beforeAll(async () => {
    ensureSiteBuilt();
    // Several tasks over a few hundred users: the participation budget (tested in test/attacks and
    // src/cloak) would soon leave them out, and these tests are about the site, not the budget.
    inst = await startTestInstallation({ privacy: { participationBudget: false } });
    orgId = await inst.createOrg('Ada Labs');
    const { organisations } = inst.platform.air;
    const ada = await organisations.addAnalyst(orgId, EMAIL, 'Ada');
    await organisations.setPasswordHash(ada.id, await hashPassword(PASSWORD));
    chromium = await launchChromium();
    context = chromium.context;
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.setDefaultTimeout(15_000);
  });
  afterAll(async () => {
    await chromium?.close();
    await inst?.stop();
  });

  it('logs in and starts the onboarding on a first visit', async () => {
    await page.goto(inst.platform.webUrl);
    await page.getByLabel('E-mail').fill(EMAIL);
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/wrong/);
    await shot('login');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.keyboard.press('Enter'); // submits the form from the password field
    await page.getByRole('heading', { name: 'Getting started' }).waitFor();
  });

  it('onboarding: defines a table', async () => {
    await page.getByLabel('Table name').fill('visits');
    await page.getByLabel('Column name').fill('g');
    await page.getByRole('button', { name: 'Define table' }).click();
    await page.getByText('Table visits is defined.').waitFor();
    await shot('onboarding');
    const rows: Record<string, unknown> = {};
    for (let u = 0; u < USERS; u++) rows[`u${u}`] = { visits: [{ g: u % 3 }] };
    await inst.platform.cloak.data.insert(orgId, rows);
    await page.getByRole('button', { name: 'Next: create a key' }).click();
  });

  it('onboarding: creates a key whose downloaded .pfx authenticates against /api/tasks', async () => {
    // An analyst is offered only the types their role may create (the server refuses the rest).
    const types = page.getByLabel('Key type').locator('option');
    expect(await types.evaluateAll((os) => os.map((o) => o.getAttribute('value')))).toEqual([
      'web_api',
      'task_runner',
    ]);
    await page.getByLabel('Description').fill('browser key');
    await page.getByLabel(/Password for the key files/).fill(KEY_PASSWORD);
    await page.getByRole('button', { name: 'Create key' }).click();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download .pfx' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^opencloak-web_api-.+\.pfx$/);
    pfx = readFileSync((await download.path())!);
    const answer = await inst.web('/api/tasks', { key: { pfx, passphrase: KEY_PASSWORD } });
    expect(answer.status).toBe(200);
    await page.getByRole('button', { name: 'Next: write a task' }).click();
  });

  it('onboarding: tries the task on test users, saves it, runs it and shows the result chart', async () => {
    await page.getByRole('button', { name: 'Try it' }).click();
    const outcomes = page.getByRole('table', { name: 'Try-it outcomes' });
    await outcomes.waitFor();
    expect(await outcomes.textContent()).toMatch(/test-user-1.*g: \d/);
    expect(await outcomes.textContent()).toMatch(/test-user-3\s*nothing/);

    // Editing the code after a try warns that the try is stale.
    await page.getByLabel('Task code').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('\n// checked\n');
    await page.getByText('The code changed since the last try.').waitFor();

    await page.getByRole('button', { name: 'Save task' }).click();
    await page.getByText('Saved (version 1).').waitFor();
    await page.getByRole('button', { name: 'Run now' }).click();
    const chart = page.getByRole('img', { name: /Result of this run/ });
    await chart.waitFor();
    expect(await chart.locator('[data-testid="bar"]').count()).toBe(3);
    await shot('task-run-result');
    await page.getByRole('button', { name: 'Finish: go to my tasks' }).click();
    await page.getByRole('heading', { name: 'Tasks' }).waitFor();
    await shot('tasks');
  });

  it('shows the results page with a table, a chart and the CSV download', async () => {
    await page.getByRole('link', { name: '1 result', exact: true }).click();
    await page.getByRole('img', { name: /Latest result/ }).waitFor();
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download CSV' }).click(),
    ]);
    expect(readFileSync((await csv.path())!, 'utf8')).toMatch(/^result_id,published_at,kind/);
    // docs/tasks.md's "Why is a bucket missing or noisy?", in short, one click away.
    await page.getByText('Why is a bucket missing or noisy?', { exact: true }).click();
    await page
      .getByText(/the participation budget limits what your organisation learns/i)
      .waitFor();
    await shot('results');
  });

  it('resumes Getting started where the organisation is instead of at step 1', async () => {
    await page.getByRole('link', { name: 'Getting started' }).click();
    await page.getByRole('heading', { name: 'All four steps are done' }).waitFor();
    expect(await page.getByText('1. Define a table').count()).toBe(0);
    await shot('getting-started-done');
    await page.getByRole('link', { name: 'Tasks' }).first().click();
    await page.getByRole('heading', { name: 'Tasks' }).waitFor();
  });

  it("shows a periodic task's buckets over time, and its exceptions with their counts", async () => {
    const task = await inst.platform.tasks.create(orgId, {
      name: 'hourly',
      type: 'periodic',
      code: 'report_property("g", tables.visits[0].g);',
      prefetch: [{ table: 'visits' }],
      schedule: { every_seconds: 3600 },
    });
    const bucket = (value: string, count: number) => ({ label: 'g', value, count });
    const { results } = inst.platform.air;
    await results.publish(
      task.id,
      1,
      { buckets: [bucket('0', 30), bucket('1', 28)], exceptions: [] },
      1_000,
    );
    await results.publish(
      task.id,
      1,
      {
        buckets: [bucket('0', 33), bucket('1', 25)],
        exceptions: [{ error: 'TypeError: x is undefined', count: 12 }],
      },
      Date.now(),
    );
    await page.goto(`${inst.platform.webUrl}/#/results/${task.token}`);
    await page.getByRole('heading', { name: 'Over time' }).waitFor();
    expect(await page.getByTestId('series-line').count()).toBe(2);
    await page.getByRole('img', { name: 'g: 0 over 2 results, last 33' }).waitFor();
    await page.getByText('TypeError: x is undefined').first().waitFor();
    await shot('results-periodic');
    // Deleting the older result, after confirming, leaves one: too few for a time series.
    const older = page.getByRole('article', { name: /^Result \d+$/ }).last();
    await older.getByRole('button', { name: /^Delete Result/ }).click();
    await older.getByRole('alertdialog').getByRole('button', { name: 'Delete result' }).click();
    await page.getByText('A time series needs at least two results.').waitFor();
    expect(await results.count(task.id)).toBe(1);
  });

  it('completes the selected tables and their columns in a new task', async () => {
    await page.getByRole('link', { name: 'Tasks' }).click();
    await page.getByRole('link', { name: 'New task' }).click();
    await page.getByLabel('Table visits').check();
    await page.getByLabel('Task code').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('report_property("g", tables.');
    await page.keyboard.press('Control+Space');
    const completions = page.locator('.cm-tooltip-autocomplete');
    await completions.getByText('visits', { exact: true }).waitFor();
    // CodeMirror ignores Enter for a moment after the list opens (interactionDelay, 75 ms).
    await page.waitForTimeout(200);
    await page.keyboard.press('Enter');
    await page.keyboard.type('[0].');
    await page.keyboard.press('Control+Space');
    await completions.getByText('g', { exact: true }).waitFor();
    await shot('task-editor');
    await page.keyboard.press('Escape');
  });

  it('writes a SQL task: highlighted, tried on test users, saved and run', async () => {
    await page.getByRole('link', { name: 'Tasks' }).click();
    await page.getByRole('link', { name: 'New task' }).click();
    await page.getByLabel('Name', { exact: true }).fill('groups in SQL');
    await page.getByLabel('Language').selectOption('sql');
    await page.getByText('A SQL task selects its rows itself').waitFor();
    // The subset, folded beside the editor: opened, it shows CASE among the group expressions.
    await page.getByText('What a SQL task may contain').click();
    await page.getByText('CASE WHEN … THEN … ELSE … END').waitFor();
    await page.getByLabel('Task code').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.type('SELECT g, count(DISTINCT user) FROM visits GROUP BY g');
    await page.keyboard.press('Escape');
    // SQL highlighting: the keyword is a styled token of its own.
    const keyword = page.locator('.cm-content span', { hasText: /^SELECT$/ }).first();
    expect(await keyword.getAttribute('class')).toBeTruthy();
    await page.getByRole('button', { name: 'Generate test users' }).click();
    await page.getByRole('button', { name: 'Try it' }).click();
    const outcomes = page.getByRole('table', { name: 'Try-it outcomes' });
    await outcomes.waitFor();
    expect(await outcomes.textContent()).toMatch(/g: /);
    await page.getByRole('button', { name: 'Save task' }).click();
    await page.getByText('Saved (version 1).').waitFor();
    await page.getByRole('button', { name: 'Run now' }).click();
    const chart = page.getByRole('img', { name: /Result of this run/ });
    await chart.waitFor();
    expect(await chart.locator('[data-testid="bar"]').count()).toBe(3);
    await shot('sql-task-editor');
  });

  it('shows tables with anonymized user counts, and adds a column with the column editor', async () => {
    await page.getByRole('link', { name: 'Tables' }).click();
    await page.getByRole('button', { name: 'Count users (anonymized)' }).click();
    await expect
      .poll(async () => Number(await page.getByTestId('count-visits').textContent()), {
        timeout: 15_000,
      })
      // Count noise of sd 10 (at most 3 sd) and half a rounding step of 10.
      .toBeGreaterThanOrEqual(USERS - 35);
    const card = page.getByRole('article', { name: 'visits' });
    await card.getByRole('button', { name: 'Add columns' }).click();
    await card.getByLabel('Column name').fill('page');
    await card.getByLabel('Type').selectOption('text');
    await card.getByRole('button', { name: 'Save new columns' }).click();
    await card.getByRole('cell', { name: 'page', exact: true }).waitFor();
    const columns = inst.platform.cloak.data.sync!.getTable(orgId, 'visits')!.columns;
    expect(columns).toEqual([
      { name: 'g', type: 'integer' },
      { name: 'page', type: 'text' },
    ]);
    await shot('tables');
  });

  it('revokes the key after confirmation, and the downloaded .pfx stops working', async () => {
    await page.getByRole('link', { name: 'Keys' }).click();
    // By keyboard: Enter opens the confirmation, whose focus starts on Cancel.
    await page.getByRole('button', { name: 'Revoke key browser key' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('alertdialog', { name: 'Revoke key browser key?' });
    await shot('keys-confirm-revoke');
    expect(
      await dialog
        .getByRole('button', { name: 'Cancel' })
        .evaluate((b) => b === b.ownerDocument.activeElement),
    ).toBe(true);
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('cell', { name: 'revoked' }).waitFor();
    await shot('keys');
    await inst.platform.refreshRevocations();
    const refused = await refusal(
      inst.web('/api/tasks', { key: { pfx, passphrase: KEY_PASSWORD } }),
    );
    expect(refused.tls || refused.status === 401).toBe(true);
  });

  it('fits a narrow window: no page scrolls sideways', async () => {
    await page.setViewportSize({ width: 390, height: 800 });
    for (const [link, heading] of [
      ['Tasks', 'Tasks'],
      ['Keys', 'Keys'],
      ['Tables', 'Tables'],
      ['Getting started', 'Getting started'],
    ]) {
      await page.getByRole('link', { name: link }).click();
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      const overflow = await page.evaluate(
        // Runs in the page; the test's tsconfig has no DOM types.
        '(() => document.documentElement.scrollWidth - window.innerWidth)()',
      );
      expect(overflow, link).toBeLessThanOrEqual(0);
    }
    await page.getByRole('link', { name: 'Tasks' }).click();
    await page
      .getByRole('row', { name: /visits-by-g/ })
      .getByRole('link', { name: '1 result', exact: true })
      .click();
    await page.getByRole('img', { name: /Latest result/ }).waitFor();
    expect(
      await page.evaluate('(() => document.documentElement.scrollWidth - window.innerWidth)()'),
    ).toBeLessThanOrEqual(0);
    await shot('results-narrow');
    await page.getByRole('link', { name: 'Tasks' }).click();
    await shot('tasks-narrow');
    await page.setViewportSize({ width: 1280, height: 860 });
  });

  it('shows the admin pages to the first admin only', async () => {
    expect(await page.getByRole('link', { name: 'Admin' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Log out' }).click();
    const admin = inst.platform.initialAdmin!;
    await page.getByLabel('E-mail').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('link', { name: 'Admin' }).click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await expect.poll(() => page.getByRole('cell', { name: 'key.revoked' }).count()).toBe(1);
    await page.getByLabel('New organisation').fill('Bo Corp');
    await page.getByRole('button', { name: 'Create organisation' }).click();
    await page.getByRole('listitem').filter({ hasText: 'Bo Corp' }).waitFor();
    await page.getByRole('combobox', { name: /^Organisation/ }).selectOption({ label: 'Bo Corp' });
    await page.getByLabel('E-mail').fill('bo@bo.test');
    await page.getByLabel('Name', { exact: true }).fill('Bo');
    await page.getByLabel(/Initial password/).fill('bo-password-123');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByLabel('Role of bo@bo.test').selectOption('data_owner');
    await expect
      .poll(async () => (await inst.platform.air.organisations.findLogin('bo@bo.test'))?.role)
      .toBe('data_owner');
    await page.getByLabel('Role of bo@bo.test').selectOption('admin');
    await expect
      .poll(async () => (await inst.platform.air.organisations.findLogin('bo@bo.test'))?.role)
      .toBe('admin');
    await page.getByLabel('Access level of bo@bo.test').selectOption('trusted');
    await expect
      .poll(
        async () => (await inst.platform.air.organisations.findLogin('bo@bo.test'))?.accessLevel,
      )
      .toBe('trusted');
    await page.getByText(`${admin.email} · untrusted`).waitFor();
    await shot('admin');
  });

  it('goes back to the login form when the session ends elsewhere', async () => {
    await inst.platform.air.db.run('DELETE FROM sessions');
    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
  });
});
