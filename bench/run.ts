/**
 * `npm run bench` runs the compare harness (bench/compare/main.ts: the healthcare workload against
 * L1-only, a non-ZK sidechain and the zk-rollup); `npm run bench -- <suite> [args]` runs one suite:
 * circuits, sequencer, api, relay. Arguments starting with `--` right after `npm run bench --` go
 * to the compare harness (`npm run bench -- --ops 24`).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SUITES = ['circuits', 'sequencer', 'api', 'relay'] as const;
const argv = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));
let script: string;
let args: string[];
if (argv.length === 0 || argv[0]!.startsWith('--') || argv[0] === 'compare') {
  script = join(here, 'compare', 'main.ts');
  args = argv[0] === 'compare' ? argv.slice(1) : argv;
} else if ((SUITES as readonly string[]).includes(argv[0]!)) {
  script = join(here, `${argv[0]!}.ts`);
  args = argv.slice(1);
} else {
  console.error(`usage: npm run bench [-- [compare] [--ops N --mix ... (see bench/README.md)]]\n       npm run bench -- <${SUITES.join('|')}> [args]`);
  process.exit(2);
}
const res = spawnSync(process.execPath, [...process.execArgv, script, ...args], { stdio: 'inherit' });
process.exit(res.status ?? 1);
