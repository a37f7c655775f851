/**
 * The relay processes `npm start` runs: LOCAL_VALIDATORS institution validators and one relayer,
 * each its own process (`npm run relay -- validator <i>` / `relayer`), as institutions would run
 * them. Ready when every validator answers /health and the relayer reports it is running.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Config } from '../sdk/config.js';
import { spawnManaged, type ManagedProcess } from './devnet/service.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'relay.ts');

export interface RelayServices {
  readonly validators: readonly { readonly url: string; readonly proc: ManagedProcess }[];
  readonly relayer: ManagedProcess;
  /** Resolves with a reason when any of them exits unasked. */
  readonly failed: Promise<string>;
  stop(): Promise<void>;
}

export class RelayServicesError extends Error {
  override readonly name = 'RelayServicesError';
}

export async function startRelayServices(config: Config, log: (line: string) => void, timeoutMs = 60_000): Promise<RelayServices> {
  let relayerRunning = false;
  const spawnRole = (name: string, args: string[]) =>
    spawnManaged({
      name,
      what: 'node',
      binary: process.execPath,
      args: ['--import', 'tsx', SCRIPT, ...args],
      env: { ...process.env, DATA_DIR: config.dataDir, DEPLOYMENT_FILE: config.deploymentFile },
      stopSignal: 'SIGTERM',
      graceMs: 5_000,
      tailLines: 20,
      tailStreams: 'both',
      // The child prefixes its own lines; drop the outer [name] then.
      log: (line) => {
        if (name === 'relayer' && / running/.test(line)) relayerRunning = true;
        log(line.replace(/^\[[^\]]+\] (?=\[)/, ''));
      },
    });
  const validators = Array.from({ length: config.relay.localValidators }, (_, i) => ({
    url: `http://${config.relay.validatorHost}:${config.relay.validatorPort + i}`,
    proc: spawnRole(`validator-${i}`, ['validator', String(i)]),
  }));
  const relayer = spawnRole('relayer', ['relayer']);
  const all = [...validators.map((v) => v.proc), relayer];
  const stop = async () => {
    await relayer.stop();
    await Promise.all(validators.map((v) => v.proc.stop()));
  };
  const deadline = Date.now() + timeoutMs;
  const pending = new Set(validators.map((v) => v.url));
  while (pending.size > 0 || !relayerRunning) {
    const gone = all.find((p) => p.died() ?? p.spawnError());
    if (gone) {
      await stop();
      throw new RelayServicesError(`a relay process exited during startup${gone.tail()}`);
    }
    for (const url of pending) {
      if (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.ok, () => false)) pending.delete(url);
    }
    if (Date.now() > deadline) {
      await stop();
      throw new RelayServicesError(`relay processes not ready within ${timeoutMs / 1000} s (VALIDATOR_PORT in use?)${relayer.tail()}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  for (const p of all) p.markReady();
  const failed = Promise.race(
    all.map((p, i) =>
      p.exited.then((e) =>
        e.expected ? new Promise<string>(() => undefined) : `relay process ${i < validators.length ? `validator-${i}` : 'relayer'} exited unexpectedly (${e.signal ?? `code ${String(e.code)}`})`,
      ),
    ),
  );
  return { validators, relayer, failed, stop };
}
