/**
 * A headless Chromium for the browser tests (playwright-core, which brings no browser of its own):
 * CHROMIUM_PATH, else chromium / chromium-browser / google-chrome on PATH, else (as root, with
 * apt-get) the Debian package `chromium`, installed the way scripts/redis.ts installs redis-server.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { aptInstall, findExecutable, isExecutableFile } from '../../scripts/devnet/system.js';

export class BrowserError extends Error {
  override readonly name = 'BrowserError';
}

const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
const HOW_TO_GET_CHROMIUM =
  'install it (Debian: sudo apt-get install chromium; Ubuntu: a chromium snap or google-chrome) or set CHROMIUM_PATH to a Chromium/Chrome executable';

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const defaultLog = (line: string) => console.log(`[chromium] ${line}`);

const findChromium = (): string | undefined => NAMES.map(findExecutable).find((p) => p !== undefined);

async function installChromium(log: (line: string) => void): Promise<string> {
  const started = Date.now();
  log('no Chromium found: installing the Debian package chromium (this takes a few minutes)');
  try {
    await aptInstall('chromium', { noRecommends: false, lockTimeoutSeconds: 600, log });
  } catch (err) {
    throw new BrowserError(`no Chromium was found on PATH and it could not be installed: ${(err as Error).message}; ${HOW_TO_GET_CHROMIUM}`);
  }
  const binary = findChromium();
  if (!binary) throw new BrowserError(`apt-get installed chromium but no ${NAMES.join(' / ')} executable is on PATH: ${HOW_TO_GET_CHROMIUM}`);
  log(`installed ${binary} in ${seconds(started)}`);
  return binary;
}

let cachedExecutable: string | undefined;
let installing: Promise<string> | undefined;

export interface FindChromiumOptions {
  /** Install the Debian package when no Chromium is found (root + apt-get only); default true. */
  install?: boolean;
  /** Receives progress lines (the apt-get output while installing); console.log unless told. */
  log?: (line: string) => void;
}

/**
 * The Chromium executable: CHROMIUM_PATH when set (it must be an executable file), else the first
 * of chromium, chromium-browser, google-chrome on PATH, else the Debian package installed now.
 */
export async function findChromiumExecutable(opts: FindChromiumOptions = {}): Promise<string> {
  const override = process.env.CHROMIUM_PATH;
  if (override) {
    if (!isExecutableFile(override)) throw new BrowserError(`CHROMIUM_PATH=${override} is not an executable file`);
    return override;
  }
  if (cachedExecutable && isExecutableFile(cachedExecutable)) return cachedExecutable;
  const found = findChromium();
  if (found) return (cachedExecutable = found);
  if (opts.install === false) throw new BrowserError(`no Chromium was found on PATH (${NAMES.join(', ')}): ${HOW_TO_GET_CHROMIUM}`);
  const log = opts.log ?? defaultLog;
  // Concurrent callers share one install.
  installing ??= installChromium(log).finally(() => {
    installing = undefined;
  });
  return (cachedExecutable = await installing);
}

/** A headless Chromium through playwright-core; close it when done. */
export async function launchChromium(opts: FindChromiumOptions = {}): Promise<Browser> {
  const executablePath = await findChromiumExecutable(opts);
  // Chromium refuses to run its sandbox as root; the tests only open our own pages.
  return chromium.launch({ executablePath, headless: true, args: ['--no-sandbox'] });
}

export interface ScreenshotOptions {
  /** Wait for this CSS selector before the screenshot. */
  readonly waitForSelector: string;
  readonly timeoutMs: number;
}

/**
 * Opens the dashboard (1280x800), waits for the selector and writes a full-page screenshot to
 * outFile. Console errors and uncaught page errors are returned, not thrown, so the test decides;
 * when the selector does not show up in time the error names them and where the page was.
 */
export async function screenshotDashboard(
  browser: Browser,
  dashboardUrl: string,
  outFile: string,
  opts: ScreenshotOptions,
): Promise<{ png: Buffer; consoleErrors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const consoleErrors: string[] = [];
  try {
    const page = await context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(msg.text());
    });
    page.on('pageerror', (err) => consoleErrors.push(`page error: ${err.message}`));
    await page.goto(dashboardUrl, { waitUntil: 'load', timeout: opts.timeoutMs });
    try {
      await page.waitForSelector(opts.waitForSelector, { timeout: opts.timeoutMs });
    } catch (err) {
      // A string expression: this project's TypeScript has no DOM types.
      const state = await page.evaluate<string>('JSON.stringify(Object.assign({}, document.body.dataset))').catch(() => 'unknown');
      // Keep what the page showed for the post-mortem.
      mkdirSync(dirname(outFile), { recursive: true });
      await page.screenshot({ path: outFile, fullPage: true }).catch(() => undefined);
      const errors = consoleErrors.length ? `; console errors: ${consoleErrors.join(' | ')}` : '';
      throw new BrowserError(`${dashboardUrl}: ${opts.waitForSelector} did not appear within ${opts.timeoutMs} ms (body data ${state}; screenshot ${outFile})${errors}: ${(err as Error).message.split('\n')[0]}`);
    }
    const png = await page.screenshot({ fullPage: true });
    mkdirSync(dirname(outFile), { recursive: true });
    writeFileSync(outFile, png);
    return { png, consoleErrors };
  } finally {
    await context.close();
  }
}
