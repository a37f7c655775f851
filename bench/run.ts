/**
 * `npm run bench` runs the compare harness (bench/compare/main.ts: the healthcare workload against
 * L1-only, a non-ZK sidechain and the zk-rollup); `npm run bench -- <suite> [args]` runs one suite:
 * circuits, sequencer, api, relay, batchgas. Arguments starting with `--` right after `npm run bench --` go
 * to the compare harness (`npm run bench -- --ops 24`).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SUITES = ['circuits', 'sequencer', 'api', 'relay', 'batchgas'] as const;
/** Suite name -> script, where they differ. */
const SCRIPTS: Record<string, string> = { batchgas: 'batchGas.ts' };
const argv = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));
let script: string;
let args: string[];
if (argv.length === 0 || argv[0]!.startsWith('--') || argv[0] === 'compare') {
  script = join(here, 'compare', 'main.ts');
  args = argv[0] === 'compare' ? argv.slice(1) : argv;
} else if ((SUITES as readonly string[]).includes(argv[0]!)) {
  script = join(here, SCRIPTS[argv[0]!] ?? `${argv[0]!}.ts`);
  args = argv.slice(1);
} else {
  console.error(`usage: npm run bench [-- [compare] [--ops N --mix ... (see bench/README.md)]]\n       npm run bench -- <${SUITES.join('|')}> [args]\n       npm run bench -- batchgas [--profiles test,dev,prod] [--sizes 1,2,4] [--sizes-prod 1,64] [--gas-gwei 20] [--eth-usd 3000]`);
  process.exit(2);
}
const res = spawnSync(process.execPath, [...process.execArgv, script, ...args], { stdio: 'inherit' });
process.exit(res.status ?? 1);
