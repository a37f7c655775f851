/**
 * `npm start`: the main job on embedded defaults. Today it runs the local devnet (two chains and the
 * deployed contracts); the sequencer, proving and settlement workers, indexer and API join here as
 * they arrive, each started after the devnet and stopped before it.
 */
import { loadConfig, type Config } from '../sdk/config.js';
import { describeDevnet, formatError, parseFlags, runUntilSignal, startDevnet, type CliFlags, type Devnet } from './devnet.js';

const USAGE = `Usage: npm start [-- --reset]

Runs the whole system locally on embedded defaults. Today: the devnet (settlement and partner chains
with the contracts deployed; see npm run devnet -- --help). Runs until Ctrl-C; state persists in
$DATA_DIR (default ./.data).

Options:
  --reset     wipe the devnet state (chain state, deployment file) first
  -h, --help  show this help

Set DEBUG=1 for stack traces. Configuration: see the table in README.md.`;

async function main(): Promise<never> {
  let flags: CliFlags;
  let config: Config;
  try {
    flags = parseFlags(process.argv.slice(2));
    if (flags.help) {
      console.log(USAGE);
      process.exit(0);
    }
    config = loadConfig();
  } catch (err) {
    console.error(`[start] error: ${formatError(err)}`);
    process.exit(1);
  }

  let devnet: Devnet | undefined;
  return runUntilSignal(
    'start',
    async (signal) => {
      devnet = await startDevnet(config, { reset: flags.reset, signal });
      // Later services start here, after the devnet, and are stopped before it.
      return { failed: devnet.failed, stop: () => devnet!.stop() };
    },
    () => {
      for (const line of describeDevnet(config, devnet!)) console.log(line);
      console.log('devnet running — Ctrl-C to stop');
    },
  );
}

void main();
