// Debian's Chromium driven by playwright-core (no browser is downloaded), and the site's build.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.resolve('test-artifacts/screenshots');

/** Builds dist/web if it is missing or older than web/ (what `npm test` does before the suite). */
export function ensureSiteBuilt(): void {
  execFileSync(process.execPath, ['scripts/ensure-site.mjs'], { stdio: 'inherit' });
}

/**
 * A fresh profile each time (playwright-core passes it to Chromium as --user-data-dir); TLS
 * errors are ignored because the installation's CA is not in the system store.
 */
export async function launchChromium(): Promise<{
  context: BrowserContext;
  close(): Promise<void>;
}> {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'opencloak-chromium-'));
  mkdirSync(SCREENSHOTS, { recursive: true });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    ignoreHTTPSErrors: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 860 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Form controls and buttons on the page that have no accessible name (no label, aria-label or
 * text): each is described by its tag and outer HTML. Runs in the page, so it is given as text.
 */
export const UNLABELLED_CONTROLS = `(() => {
  const named = (el) => {
    if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')) return true;
    if (el.closest('label')) return true;
    if (el.id && document.querySelector('label[for="' + CSS.escape(el.id) + '"]')) return true;
    return el.tagName === 'BUTTON' && el.textContent.trim() !== '';
  };
  return [...document.querySelectorAll('input, select, textarea, button, [contenteditable="true"]')]
    .filter((el) => el.type !== 'hidden' && !named(el))
    .map((el) => el.outerHTML.slice(0, 120));
})()`;
