/**
 * Compiles circom circuits with the npm `circom2` package (circom 2.2.3 compiled to WASM), with a
 * content-addressed cache.
 *
 *   const c = await compileCircuit({ source: 'circuits/src/merkle.circom', name: 'merkle4',
 *                                    main: 'component main = MerkleRoot(4);' });
 *   // c.r1cs, c.wasm, c.sym (paths), c.constraints
 *
 * Why staging: circom2 runs under WASI and can only open RELATIVE paths below its working
 * directory, so absolute include paths fail. compileCircuit therefore copies everything the circuit
 * needs into `node_modules/.cache/medrollup-circuits/<hash>/`, keeping the repository layout
 * (circuits/src/..., node_modules/circomlib/circuits/...), and runs circom2 there with
 * `-l node_modules`. Includes resolve exactly as in the repository: relative to the including file
 * first, then as `circomlib/circuits/...` through the library path. Nothing is rewritten.
 *
 * Staged: the source and the include closure of the source and of the `main` text, i.e. exactly the
 * circuits/src files and circomlib circuits circom will read (an include the scanner cannot resolve
 * is not staged, so circom fails on it loudly rather than a stale result being reused). The cache
 * key hashes the paths and contents of all staged files, the circom2 compiler binary, the
 * optimization level, the name and the main text: an unchanged second call returns at once without
 * running circom, and editing an unrelated circuits/src file does not invalidate it.
 * A compile runs in a temporary directory that is renamed to its hash when complete, so parallel
 * callers (jest workers) never see half-written outputs. Failed compiles are not cached. A cache
 * hit refreshes the entry's meta.json mtime; each fresh compile deletes entries unused for 7 days.
 *
 * Optimization: the default is --O1 (circom's own default). Measured with circom2: ~16 s and
 * ~630 bytes of RAM per 1M constraints, under a 4 GB WASM memory ceiling; --O2 is ~6x slower and
 * needs ~3x the memory. `--O0` keeps every signal in the witness (useful to inspect intermediates).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

const circuitsDir = dirname(fileURLToPath(import.meta.url));
/** Repository root (this file is circuits/compile.ts). */
export const REPO_ROOT = resolve(circuitsDir, '..');
/** Root of the compile cache; one subdirectory per cache key. */
export const CIRCUITS_CACHE_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'medrollup-circuits');
/** Library search paths handed to circom2 (`-l`), relative to the repository root. */
const LIBRARY_DIRS = ['node_modules'];
/** Bump when the staging layout or the metadata format changes, to invalidate old cache entries. */
const CACHE_FORMAT = 'medrollup-circuits/2';
const META_FILE = 'meta.json';
/** Cache entries unused for this long are deleted (by the next fresh compile). Large circuits take
 * ~0.7 KB of cache per constraint (mostly the .sym), and every source edit makes a new entry. */
const CACHE_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
/** Leftover staging directories (a killed compile) older than this are deleted. */
const TMP_MAX_AGE_MS = 24 * 3600 * 1000;
const OUT_DIR = 'out';

export type Optimization = 'O0' | 'O1' | 'O2';

export interface CompileOptions {
  /** The .circom file, under circuits/: absolute, relative to the repository root, or relative to circuits/. */
  source: string;
  /**
   * Optional circom text appended after `include "<source>";` in a generated wrapper, typically
   * `component main = Template(args);`, possibly preceded by test-only templates. Without it the
   * source itself must declare `component main`.
   */
  main?: string;
  /** Circuit name: names the wrapper and the outputs (`<name>.r1cs`, ...). [A-Za-z_][A-Za-z0-9_]* */
  name: string;
  /** When given, r1cs, wasm and sym are copied there and the returned paths point there. */
  outDir?: string;
  /** circom simplification level; default 'O1'. */
  optimization?: Optimization;
  /** Ignore (and replace) a cached result. */
  force?: boolean;
  /** Receives progress lines; default console.log. Pass `() => {}` to silence. */
  log?: (line: string) => void;
}

export interface CompiledCircuit {
  name: string;
  /** Absolute paths of the outputs. */
  r1cs: string;
  wasm: string;
  sym: string;
  /**
   * circom's generated witness_calculator.js (CommonJS), copied as witness_calculator.cjs next to
   * the wasm: the repository is "type": "module", so a .js file there would load as ESM.
   */
  witnessCalculator: string;
  /** Total R1CS constraints: nonLinear + linear, as circom reports them. */
  constraints: number;
  nonLinear: number;
  linear: number;
  wires: number;
  labels: number;
  templateInstances: number;
  publicInputs: number;
  privateInputs: number;
  publicOutputs: number;
  optimization: Optimization;
  /** Cache key and cache directory. */
  hash: string;
  dir: string;
  /** True when this call did not run circom. */
  cached: boolean;
  /** Wall time of the circom2 run that produced the outputs (the original one when cached). */
  compileMs: number;
  /** circom's console output (ANSI colours stripped). */
  output: string;
}

/** circom2 rejected the circuit (or could not run). `circomOutput` holds circom's own message. */
export class CircuitCompileError extends Error {
  override readonly name = 'CircuitCompileError';
  constructor(
    readonly circuit: string,
    readonly circomOutput: string,
    readonly exitCode: number | null,
  ) {
    super(`circom2 failed to compile circuit "${circuit}" (exit code ${exitCode ?? 'none'}):\n${circomOutput.trim()}`);
  }
}

/** What is persisted in <cache>/<hash>/meta.json (paths relative to that directory). */
interface CacheMeta {
  format: string;
  name: string;
  entry: string;
  r1cs: string;
  wasm: string;
  sym: string;
  witnessCalculator: string;
  stats: CircomStats;
  optimization: Optimization;
  compileMs: number;
  output: string;
}

interface CircomStats {
  nonLinear: number;
  linear: number;
  wires: number;
  labels: number;
  templateInstances: number;
  publicInputs: number;
  privateInputs: number;
  publicOutputs: number;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

// eslint-disable-next-line no-control-regex
const ANSI_RE = /\u001b\[[0-9;]*[A-Za-z]/g;

function stripAnsi(text: string): string {
  return text.replace(ANSI_RE, '');
}

/** Repository-relative path with forward slashes (the form used inside the cache and in includes). */
function repoRelative(abs: string): string {
  return relative(REPO_ROOT, abs).split(sep).join('/');
}

function isInside(parent: string, child: string): boolean {
  const rel = relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

function resolveSource(source: string): string {
  const candidates = isAbsolute(source) ? [source] : [resolve(REPO_ROOT, source), resolve(circuitsDir, source)];
  const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  if (!found) throw new Error(`compileCircuit: source ${source} not found (tried ${candidates.join(', ')})`);
  if (!found.endsWith('.circom')) throw new Error(`compileCircuit: source ${source} is not a .circom file`);
  if (!isInside(circuitsDir, found)) throw new Error(`compileCircuit: source ${source} is not under ${circuitsDir}`);
  return found;
}

/** `include "x";` targets of a circom text, comments removed first. */
function includesOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  return [...code.matchAll(/\binclude\s+"([^"]+)"\s*;/g)].map((m) => m[1] ?? '');
}

/**
 * Repository-relative paths of the files an include in `fromRel` (a repository-relative file) may
 * refer to: relative to the including file, then through each library directory. Every existing
 * candidate is staged, so circom finds whatever it would have found in the repository.
 */
function includeCandidates(fromRel: string, target: string): string[] {
  const bases = [posix.dirname(fromRel), ...LIBRARY_DIRS];
  const out: string[] = [];
  for (const base of bases) {
    const rel = posix.normalize(posix.join(base, target));
    const abs = resolve(REPO_ROOT, rel);
    if (existsSync(abs) && statSync(abs).isFile()) {
      if (!isInside(REPO_ROOT, abs)) {
        throw new Error(`compileCircuit: include "${target}" in ${fromRel} resolves outside the repository (${abs}); circom2 cannot open it`);
      }
      out.push(repoRelative(abs));
    }
  }
  return out;
}

/** The repository-relative files to stage: the source and the include closure. */
function collectFiles(sourceRel: string, wrapperText: string | undefined): string[] {
  const files = new Set<string>([sourceRel]);
  const queue: string[] = [sourceRel];
  if (wrapperText !== undefined) {
    // The wrapper lives at the staging root, i.e. at the repository root's position.
    for (const inc of includesOf(wrapperText)) queue.push(...includeCandidates('wrapper.circom', inc));
  }
  const seen = new Set<string>();
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    files.add(file);
    for (const inc of includesOf(readFileSync(resolve(REPO_ROOT, file), 'utf8'))) {
      // An unresolvable include is left for circom to report, with its own message.
      queue.push(...includeCandidates(file, inc));
    }
  }
  return [...files].sort();
}

let compilerHash: string | undefined;
/** Hash of the circom2 compiler (its WASM binary and package version). */
function circomCompilerHash(): string {
  if (compilerHash === undefined) {
    const pkg = JSON.parse(readFileSync(require.resolve('circom2/package.json'), 'utf8')) as { version: string };
    const wasm = readFileSync(require.resolve('circom2/circom.wasm'));
    compilerHash = createHash('sha256').update(`circom2@${pkg.version}\n`).update(wasm).digest('hex');
  }
  return compilerHash;
}

function parseStats(output: string): CircomStats {
  const num = (label: string): number => {
    const m = new RegExp(`^${label}:\\s*(\\d+)`, 'm').exec(output);
    if (!m) throw new Error(`compileCircuit: "${label}" missing from circom output:\n${output}`);
    return Number(m[1]);
  };
  return {
    nonLinear: num('non-linear constraints'),
    linear: num('linear constraints'),
    wires: num('wires'),
    labels: num('labels'),
    templateInstances: num('template instances'),
    publicInputs: num('public inputs'),
    privateInputs: num('private inputs'),
    publicOutputs: num('public outputs'),
  };
}

function runCircom(cwd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const cli = require.resolve('circom2/cli.js');
  return new Promise((resolvePromise, reject) => {
    // process.execPath keeps the pinned Node (npm package `node`) rather than whatever is on PATH.
    const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => chunks.push(d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, output: stripAnsi(Buffer.concat(chunks).toString('utf8')) }));
  });
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function toResult(dir: string, hash: string, meta: CacheMeta, cached: boolean): CompiledCircuit {
  return {
    name: meta.name,
    r1cs: join(dir, meta.r1cs),
    wasm: join(dir, meta.wasm),
    sym: join(dir, meta.sym),
    witnessCalculator: join(dir, meta.witnessCalculator),
    constraints: meta.stats.nonLinear + meta.stats.linear,
    ...meta.stats,
    optimization: meta.optimization,
    hash,
    dir,
    cached,
    compileMs: meta.compileMs,
    output: meta.output,
  };
}

function readMeta(dir: string): CacheMeta | undefined {
  const file = join(dir, META_FILE);
  if (!existsSync(file)) return undefined;
  try {
    const meta = JSON.parse(readFileSync(file, 'utf8')) as CacheMeta;
    if (meta.format !== CACHE_FORMAT) return undefined;
    for (const f of [meta.r1cs, meta.wasm, meta.sym, meta.witnessCalculator]) if (!existsSync(join(dir, f))) return undefined;
    return meta;
  } catch {
    return undefined;
  }
}

/** Deletes cache entries not used for CACHE_MAX_AGE_MS and stale staging directories. Best effort. */
function pruneCache(log: (line: string) => void): void {
  const now = Date.now();
  let removed = 0;
  for (const entry of readdirSync(CIRCUITS_CACHE_DIR, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(CIRCUITS_CACHE_DIR, entry.name);
    try {
      const isTmp = entry.name.startsWith('tmp-');
      const stamp = isTmp ? statSync(dir).mtimeMs : statSync(join(dir, META_FILE)).mtimeMs;
      if (now - stamp > (isTmp ? TMP_MAX_AGE_MS : CACHE_MAX_AGE_MS)) {
        rmSync(dir, { recursive: true, force: true });
        removed += 1;
      }
    } catch {
      // An entry without meta.json is incomplete or being replaced: leave it alone.
    }
  }
  if (removed > 0) log(`[circuits] pruned ${removed} cache entr${removed === 1 ? 'y' : 'ies'} unused for 7 days`);
}

function withOutDir(result: CompiledCircuit, outDir: string | undefined): CompiledCircuit {
  if (outDir === undefined) return result;
  const dest = resolve(outDir);
  mkdirSync(dest, { recursive: true });
  const copy = (from: string): string => {
    const to = join(dest, posix.basename(from.split(sep).join('/')));
    copyFileSync(from, to);
    return to;
  };
  return { ...result, r1cs: copy(result.r1cs), wasm: copy(result.wasm), sym: copy(result.sym), witnessCalculator: copy(result.witnessCalculator) };
}

/** Compiles (or fetches from the cache) a circuit; see the file comment. */
export async function compileCircuit(options: CompileOptions): Promise<CompiledCircuit> {
  const { name, main, outDir, force = false } = options;
  const optimization: Optimization = options.optimization ?? 'O1';
  const log = options.log ?? ((line: string) => console.log(line));
  if (!NAME_RE.test(name)) throw new Error(`compileCircuit: invalid circuit name "${name}" (want [A-Za-z_][A-Za-z0-9_]*)`);

  const sourceAbs = resolveSource(options.source);
  const sourceRel = repoRelative(sourceAbs);
  const wrapperText = main === undefined ? undefined : `pragma circom 2.1.0;\n\ninclude "${sourceRel}";\n\n${main}\n`;
  const entry = main === undefined ? sourceRel : `${name}.circom`;
  const files = collectFiles(sourceRel, wrapperText);

  const hasher = createHash('sha256');
  hasher.update(`${CACHE_FORMAT}\0${circomCompilerHash()}\0${optimization}\0${name}\0${entry}\0${wrapperText ?? ''}\0`);
  const contents = new Map<string, Buffer>();
  for (const file of files) {
    const data = readFileSync(resolve(REPO_ROOT, file));
    contents.set(file, data);
    hasher.update(`${file}\0${createHash('sha256').update(data).digest('hex')}\0`);
  }
  const hash = hasher.digest('hex').slice(0, 32);
  const dir = join(CIRCUITS_CACHE_DIR, hash);
  const prefix = `[circuits] ${name}`;

  if (!force) {
    const meta = readMeta(dir);
    if (meta) {
      const now = new Date();
      try {
        utimesSync(join(dir, META_FILE), now, now); // marks the entry as used (see pruneCache)
      } catch {
        // read-only cache: fine
      }
      log(`${prefix}: cached (${fmt(meta.stats.nonLinear + meta.stats.linear)} constraints, ${hash.slice(0, 12)})`);
      return withOutDir(toResult(dir, hash, meta, true), outDir);
    }
  }

  mkdirSync(CIRCUITS_CACHE_DIR, { recursive: true });
  pruneCache(log);
  const tmp = join(CIRCUITS_CACHE_DIR, `tmp-${hash.slice(0, 12)}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    for (const [file, data] of contents) {
      const dest = join(tmp, ...file.split('/'));
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, data);
    }
    if (wrapperText !== undefined) writeFileSync(join(tmp, entry), wrapperText);
    mkdirSync(join(tmp, OUT_DIR), { recursive: true });

    log(`${prefix}: compiling ${sourceRel}${main === undefined ? '' : ' (test main)'} with circom2 --${optimization} (${files.length} files staged, ${hash.slice(0, 12)}) ...`);
    const args = [entry, '--r1cs', '--wasm', '--sym', `--${optimization}`, '-o', OUT_DIR, ...LIBRARY_DIRS.flatMap((l) => ['-l', l])];
    const started = Date.now();
    const { code, output } = await runCircom(tmp, args);
    const compileMs = Date.now() - started;
    if (code !== 0) throw new CircuitCompileError(name, output, code);

    const base = posix.basename(entry, '.circom');
    const meta: CacheMeta = {
      format: CACHE_FORMAT,
      name,
      entry,
      r1cs: `${OUT_DIR}/${base}.r1cs`,
      wasm: `${OUT_DIR}/${base}_js/${base}.wasm`,
      sym: `${OUT_DIR}/${base}.sym`,
      witnessCalculator: `${OUT_DIR}/${base}_js/witness_calculator.cjs`,
      stats: parseStats(output),
      optimization,
      compileMs,
      output,
    };
    for (const f of [meta.r1cs, meta.wasm, meta.sym, `${OUT_DIR}/${base}_js/witness_calculator.js`]) {
      if (!existsSync(join(tmp, f))) throw new CircuitCompileError(name, `${output}\n(expected output ${f} is missing)`, code);
    }
    copyFileSync(join(tmp, OUT_DIR, `${base}_js`, 'witness_calculator.js'), join(tmp, meta.witnessCalculator));
    writeFileSync(join(tmp, META_FILE), JSON.stringify(meta, null, 2));

    if (force && existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // Another process finished the same compile first: use its (identical) result.
      if (!readMeta(dir)) throw err;
    }
    const { nonLinear, linear } = meta.stats;
    log(`${prefix}: ${fmt(nonLinear + linear)} constraints (${fmt(nonLinear)} non-linear + ${fmt(linear)} linear), ${fmt(meta.stats.wires)} wires, compiled in ${(compileMs / 1000).toFixed(1)} s`);
    return withOutDir(toResult(dir, hash, meta, false), outDir);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
