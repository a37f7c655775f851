/**
 * Compiles contracts/src with solc-js into contracts/artifacts/<Name>.json (abi, bytecode) and
 * generates ethers-v6 TypeChain bindings into contracts/types/. Skips work when neither the
 * sources nor the compiler changed (hash stored next to the artifacts).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const solc = require('solc') as {
  version(): string;
  compile(input: string, opts: { import: (path: string) => { contents: string } | { error: string } }): string;
};

const root = dirname(fileURLToPath(import.meta.url));
const srcDir = join(root, 'src');
const artifactsDir = join(root, 'artifacts');
const typesDir = join(root, 'types');
const hashFile = join(artifactsDir, '.sources.sha256');

export const EVM_VERSION = 'cancun';
/** Contracts from packages that we deploy ourselves (poseidon-solidity's hashers). */
const PACKAGE_ARTIFACTS = new Set(['PoseidonT3', 'PoseidonT6']);

function listSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listSources(path);
    return entry.name.endsWith('.sol') ? [path] : [];
  });
}

function sourcesHash(files: string[]): string {
  const h = createHash('sha256');
  h.update(solc.version());
  h.update(readFileSync(fileURLToPath(import.meta.url)));
  for (const f of files.sort()) {
    h.update(relative(root, f));
    h.update(readFileSync(f));
  }
  return h.digest('hex');
}

function findImport(path: string): { contents: string } | { error: string } {
  for (const base of [srcDir, join(root, '..', 'node_modules')]) {
    const candidate = join(base, path);
    if (existsSync(candidate)) return { contents: readFileSync(candidate, 'utf8') };
  }
  return { error: `import not found: ${path}` };
}

interface SolcOutput {
  errors?: { severity: 'error' | 'warning' | 'info'; formattedMessage: string }[];
  contracts: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>>;
}

export async function buildContracts({ force = false, quiet = false } = {}): Promise<void> {
  const log = (msg: string) => quiet || console.log(`[contracts] ${msg}`);
  const files = listSources(srcDir);
  const hash = sourcesHash(files);
  if (!force && existsSync(hashFile) && readFileSync(hashFile, 'utf8') === hash && existsSync(typesDir)) {
    log('artifacts up to date');
    return;
  }
  log(`compiling ${files.length} sources with solc ${solc.version()} ...`);
  const started = Date.now();
  const input = {
    language: 'Solidity',
    sources: Object.fromEntries(files.map((f) => [relative(srcDir, f), { content: readFileSync(f, 'utf8') }])),
    settings: {
      evmVersion: EVM_VERSION,
      optimizer: { enabled: true, runs: 200 },
      viaIR: false,
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImport })) as SolcOutput;
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  for (const w of (output.errors ?? []).filter((e) => e.severity === 'warning')) log(w.formattedMessage.trim());
  if (errors.length > 0) {
    throw new Error(`solc failed:\n${errors.map((e) => e.formattedMessage).join('\n')}`);
  }
  rmSync(artifactsDir, { recursive: true, force: true });
  rmSync(typesDir, { recursive: true, force: true });
  mkdirSync(artifactsDir, { recursive: true });
  const written: string[] = [];
  for (const [source, contracts] of Object.entries(output.contracts)) {
    const ours = files.some((f) => relative(srcDir, f) === source);
    for (const [name, c] of Object.entries(contracts)) {
      if (!ours && !PACKAGE_ARTIFACTS.has(name)) continue; // other imports are compiled, not deployed
      const file = join(artifactsDir, `${name}.json`);
      writeFileSync(
        file,
        JSON.stringify({ contractName: name, sourceName: source, abi: c.abi, bytecode: `0x${c.evm.bytecode.object}`, deployedBytecode: `0x${c.evm.deployedBytecode.object}` }, null, 2),
      );
      written.push(file);
    }
  }
  const { runTypeChain } = await import('typechain');
  await runTypeChain({
    cwd: root,
    filesToProcess: written,
    allFiles: written,
    outDir: typesDir,
    target: 'ethers-v6',
    // ESM with NodeNext resolution needs explicit .js extensions in relative imports.
    flags: { alwaysGenerateOverloads: false, discriminateTypes: false, tsNocheck: false, node16Modules: true, environment: undefined },
  });
  writeFileSync(hashFile, hash);
  log(`wrote ${written.length} artifacts and typed bindings in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildContracts({ force: process.argv.includes('--force') }).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
