/**
 * A headless Chromium for the browser tests (playwright-core, which brings no browser of its own):
 * CHROMIUM_PATH, else chromium / chromium-browser / google-chrome on PATH, else (as root, with
 * apt-get) the Debian package `chromium`, installed the way scripts/redis.ts installs redis-server.
 */
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

export class BrowserError extends Error {
  override readonly name = 'BrowserError';
}

const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];
const OUTPUT_TAIL_LINES = 20;
const HOW_TO_GET_CHROMIUM =
  'install it (Debian: sudo apt-get install chromium; Ubuntu: a chromium snap or google-chrome) or set CHROMIUM_PATH to a Chromium/Chrome executable';

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const defaultLog = (line: string) => console.log(`[chromium] ${line}`);

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** PATH entries, then the usual system dirs (PATH may lack them for non-login shells). */
function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

const findChromium = (): string | undefined => NAMES.map(findExecutable).find((p) => p !== undefined);

/** Runs a command, sending each output line to log; rejects with the tail of its output on failure. */
function runLogged(command: string, args: string[], env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const pipeLines = (stream: NodeJS.ReadableStream | null) => {
      let buffered = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        buffered += chunk;
        const parts = buffered.split(/\r?\n|\r/);
        buffered = parts.pop() ?? '';
        for (const raw of parts) {
          const line = raw.trimEnd();
          if (!line) continue;
          tail.push(line);
          if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
          log(line);
        }
      });
    };
    pipeLines(child.stdout);
    pipeLines(child.stderr);
    const what = `${command} ${args.join(' ')}`;
    child.once('error', (err) => reject(new BrowserError(`could not run ${what}: ${err.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolveRun();
      else reject(new BrowserError(`${what} failed (${signal ? `signal ${signal}` : `exit code ${code}`})${tail.length ? `:\n    ${tail.join('\n    ')}` : ''}`));
    });
  });
}

/** True when apt knows an installable candidate for the package (its package lists are present). */
function aptKnows(pkg: string): Promise<boolean> {
  const aptCache = findExecutable('apt-cache');
  if (!aptCache) return Promise.resolve(false);
  return new Promise((resolveKnown) => {
    execFile(aptCache, ['policy', pkg], { timeout: 30_000 }, (err, stdout) => {
      const candidate = /Candidate:\s*(\S+)/.exec(stdout ?? '')?.[1];
      resolveKnown(!err && candidate !== undefined && candidate !== '(none)');
    });
  });
}

async function installChromium(log: (line: string) => void): Promise<string> {
  const aptGet = findExecutable('apt-get');
  if (process.platform !== 'linux' || !aptGet) {
    throw new BrowserError(`no Chromium was found on PATH and there is no apt-get here to install it: ${HOW_TO_GET_CHROMIUM}`);
  }
  if (process.getuid?.() !== 0) {
    throw new BrowserError(`no Chromium was found on PATH, and installing it needs root (this process is not): ${HOW_TO_GET_CHROMIUM}`);
  }
  const started = Date.now();
  const env: NodeJS.ProcessEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'a' };
  const apt = (args: string[]) => runLogged(aptGet, args, env, (line) => log(`apt-get: ${line}`));
  const install = () =>
    apt([
      'install',
      '-y',
      // Wait for another apt/dpkg (or a parallel test worker) instead of failing on the lock.
      '-o',
      'DPkg::Lock::Timeout=600',
      '-o',
      'Dpkg::Options::=--force-confdef',
      '-o',
      'Dpkg::Options::=--force-confold',
      'chromium',
    ]);

  log('no Chromium found: installing the Debian package chromium (this takes a few minutes)');
  let updated = false;
  if (!(await aptKnows('chromium'))) {
    log('apt does not know chromium yet: apt-get update');
    await apt(['update']);
    updated = true;
  }
  try {
    await install();
  } catch (err) {
    if (updated) throw err;
    // Old package lists name files the mirror no longer has: refresh them and try once more.
    log(`install failed (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); apt-get update and retrying`);
    await apt(['update']);
    await install();
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
