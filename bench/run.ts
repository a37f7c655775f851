/**
 * `npm run bench -- <suite> [args]`. Suites: circuits, sequencer, api, relay.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SUITES = ['circuits', 'sequencer', 'api', 'relay'] as const;
const [suite, ...args] = process.argv.slice(2);
if (!suite || !(SUITES as readonly string[]).includes(suite)) {
  console.error(`usage: npm run bench -- <${SUITES.join('|')}> [args]`);
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const res = spawnSync(process.execPath, [...process.execArgv, join(here, `${suite}.ts`), ...args], { stdio: 'inherit' });
process.exit(res.status ?? 1);
