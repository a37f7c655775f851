/**
 * =====================================================================================================
 *  INSECURE BY CONSTRUCTION. DEV / TEST ONLY. NEVER USE A KEY FROM THIS FILE WHERE ANYTHING IS AT STAKE.
 * =====================================================================================================
 *
 * Dev-only Groth16 key generation: writes a snarkjs-compatible proving key (.zkey) for a circom R1CS
 * from toxic waste (tau, alpha, beta, gamma, delta) that this process samples, knows in full while it
 * runs, and then overwrites. Whoever can observe this process (a debugger, a core dump, swap, a
 * compromised dependency, or simply whoever passes `entropy`) can forge proofs for every statement of
 * the circuit. Production keys must come from a public powers-of-tau ceremony file plus phase-2
 * contributions (`snarkjs zkey new` + `snarkjs zkey contribute`), never from this tool.
 *
 *   npm run keygen:dev -- <circuit.r1cs> <out.zkey> [--workers N]
 *   npx tsx circuits/setup/devKeygen.ts <circuit.r1cs> <out.zkey> [--workers N]
 *
 * Why it exists: `snarkjs powersoftau prepare phase2` costs O(N log N) group operations per power and
 * is out of reach here beyond 2^14 (see /work/shared/DESIGN.md, "Facts measured"), while our batch
 * circuits need 2^18 (test profile) to 2^23 (prod). Knowing tau, every key element is a field scalar
 * times a generator, so no FFT in the exponent is needed:
 *   L_j(tau)  = (tau^n - 1)/n * w^j / (tau - w^j)                 Lagrange basis of the n-domain
 *   A_i(tau)  = sum_c A[c][i] L_c(tau), likewise B_i and C_i        (A includes snarkjs's extra public-
 *                                                                    input rows A[nConstraints+s][s]=1)
 *   K_i       = beta A_i + alpha B_i + C_i
 *   IC_i      = [K_i / gamma]G1 (i <= nPublic),  C_i = [K_i / delta]G1 (i > nPublic)
 *   A_i, B1_i = [A_i]G1, [B_i]G1;  B2_i = [B_i]G2
 *   H_i       = [L^{2n}_{2i+1}(tau) / delta]G1, i < n: snarkjs's zkey_new copies the odd-index Lagrange
 *               points of the 2n-domain (ptau section 12) and its prover (groth16_prove.js) evaluates
 *               A*B-C on the odd coset w_{2n} * w_n^i, so sum_i (A*B-C)(w_{2n}^{2i+1}) H_i =
 *               [(A*B-C)(tau)/delta] = [h(tau) Z(tau)/delta] for deg(A*B-C) < 2n.
 *
 * The file matches `zkey new` + contributions section by section: 1 header, 2 Groth16 header, 3 IC,
 * 4 coefficients (byte-identical to snarkjs for the same R1CS), 5 A, 6 B1, 7 B2, 8 C, 9 H,
 * 10 contributions. Deviations, none of which a prover or verifier reads:
 *   - gamma is random (snarkjs always leaves gamma2 at the G2 generator);
 *   - section 10 holds a 64-byte blake2b-512 fingerprint of sections 2-9 where snarkjs puts its
 *     circuit hash, followed by an empty contribution list (so `snarkjs zkey contribute` still works
 *     on top of it, but `snarkjs zkey verify` cannot: there is no ptau this key derives from).
 *
 * Cost: the fixed-base scalar multiplications dominate. They run in worker_threads on the bn128 wasm
 * of ffjavascript with a per-worker comb table (window c <= 16 bits: ceil(254/c) mixed additions per
 * point instead of ~380 doublings/additions; measured ~18 us per G1 point vs ~165 us for timesFr),
 * zero scalars cost nothing. The field work (R1CS pass, Lagrange chunks, batch inversions) runs on
 * the main thread in the same wasm. Measured on the 2-vCPU dev box (shared, so +-2x): 248k
 * constraints (2^18) 9-29 s, 344 MB RSS; 517k constraints (2^19) 19-32 s, 420 MB. Time and memory
 * grow linearly: expect ~5 min and ~1.5 GB for 2^23 on two cores (main thread: 96 bytes per
 * variable; each worker: up to ~220 MB of comb tables).
 *
 * Toxic waste handling: secrets are sampled straight into wasm memory (no BigInt copies), derived
 * scalars are handed to workers in transferred buffers that the workers zero after use, and all
 * wasm memory (main thread and workers) is zeroed before the function returns. JavaScript cannot
 * guarantee that no copy survives elsewhere (GC, swap): that is why the key is dev-only, not a fix.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export interface DevKeygenOptions {
  r1csPath: string;
  zkeyPath: string;
  /** Worker threads for the scalar multiplications; default os.availableParallelism(). */
  workers?: number;
  /** Progress and the insecurity warning; default console.log. */
  log?: (msg: string) => void;
  /** TESTS ONLY: makes the toxic waste a deterministic function of these bytes. */
  entropy?: Uint8Array;
}

export interface DevKeygenResult {
  nConstraints: number;
  nVars: number;
  nPublic: number;
  domainSize: number;
  seconds: number;
}

export const INSECURE_WARNING =
  'INSECURE DEV-ONLY GROTH16 KEY: the toxic waste (tau, alpha, beta, gamma, delta) was generated and known in ' +
  'this process. Anyone who obtained it can forge proofs. Never use this key outside development and tests; ' +
  'production keys come from a public ceremony (ptau) plus snarkjs zkey contributions.';

// ---------------------------------------------------------------------------------------------
// Constants of BN254 and of the snarkjs formats
// ---------------------------------------------------------------------------------------------

const N8 = 32; // bytes of an Fr element and of an Fq coordinate
const BN254_Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const BN254_R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
const G1_AFFINE = 2 * N8;
const G2_AFFINE = 4 * N8;
const G1_JACOBIAN = 3 * N8;
const G2_JACOBIAN = 6 * N8;
const R1CS_TERM = 4 + N8; // u32 signal + coefficient
const COEF_ENTRY = 12 + N8; // u32 matrix, u32 constraint, u32 signal, coefficient * R^2 (zkey section 4)
/** Relative cost of a G2 point in the comb (mixed addition in Fq2 vs Fq), for progress and ETA only. */
const G2_WEIGHT = 3.8;

/** Points per worker job; 8192 G2 points are 1 MiB of output. */
const POINT_CHUNK = 1 << 13;
/** Lagrange values computed per batch inversion. */
const LAGRANGE_CHUNK = 1 << 16;
/** Coefficient entries buffered before a write. */
const COEF_CHUNK = 1 << 15;
/** R1CS read window (grows when one linear combination is larger). */
const R1CS_WINDOW = 1 << 22;
/** Free wasm memory kept above our allocations for the wasm's own scratch (batch inversion). */
const WASM_SCRATCH = 1 << 23;
/**
 * The wasm addresses memory with i32 arithmetic; stay below 2 GiB so no pointer turns negative.
 * The main thread holds A, B and K for every variable: 96 bytes x nVars (2^23 variables: 768 MiB).
 */
const WASM_LIMIT = 2 ** 31 - 2 ** 20;

function leBytes(v: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

const R_LE = leBytes(BN254_R, N8);

// ---------------------------------------------------------------------------------------------
// The untyped dependencies (ffjavascript, r1csfile, @iden3/binfileutils ship no declarations):
// only what is used here, following their sources in node_modules.
// ---------------------------------------------------------------------------------------------

type WasmFn = (...args: number[]) => number;

interface ThreadManager {
  instance: { exports: unknown };
  /** A WebAssembly.Memory (lib "dom" is not loaded, so only what is used). */
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  u8: Uint8Array;
  u32: Uint32Array;
  /** The wasm binary (kept by ffjavascript in single-thread mode). */
  code: Uint8Array;
  pG1gen: number;
  pG2gen: number;
}

interface Bn128 {
  tm: ThreadManager;
  Fr: { w: Uint8Array[]; s: number; one: Uint8Array; e(v: number): Uint8Array };
  terminate(): Promise<void>;
}

interface BinFd {
  close(): Promise<void>;
}

interface BinSection {
  p: number;
  size: number;
}

interface R1csHeader {
  n8: number;
  prime: bigint;
  nVars: number;
  nOutputs: number;
  nPubInputs: number;
  nPrvInputs: number;
  nConstraints: number;
  useCustomGates: boolean;
}

async function importUntyped<T>(specifier: string): Promise<T> {
  return (await import(specifier)) as T;
}

const ffjavascript = () => importUntyped<{ buildBn128(singleThread: boolean): Promise<Bn128> }>('ffjavascript');
const binfileutils = () =>
  importUntyped<{
    readBinFile(name: string, type: string, maxVersion: number): Promise<{ fd: BinFd; sections: (BinSection[] | undefined)[] }>;
  }>('@iden3/binfileutils');
const r1csfile = () =>
  importUntyped<{ readR1csHeader(fd: BinFd, sections: (BinSection[] | undefined)[], options: object): Promise<R1csHeader> }>('r1csfile');

// ---------------------------------------------------------------------------------------------
// Main-thread wasm memory: a bump allocator above ffjavascript's own data
// ---------------------------------------------------------------------------------------------

class WasmArena {
  readonly ex: Record<string, WasmFn>;
  u8!: Uint8Array;
  dv!: DataView;
  private readonly base: number;
  private top: number;

  constructor(private readonly tm: ThreadManager) {
    this.ex = tm.instance.exports as unknown as Record<string, WasmFn>;
    this.refresh();
    this.base = tm.u32[0] ?? 0;
    this.top = this.base;
  }

  private refresh(): void {
    const buf = this.tm.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.dv = new DataView(buf);
    // Keep ffjavascript's own views valid too.
    this.tm.u8 = this.u8;
    this.tm.u32 = new Uint32Array(buf);
  }

  alloc(bytes: number): number {
    const p = Math.ceil(this.top / 64) * 64;
    const end = p + bytes;
    if (end + WASM_SCRATCH > WASM_LIMIT) {
      throw new Error(`devKeygen: needs ${((end + WASM_SCRATCH) / 2 ** 30).toFixed(2)} GiB of wasm memory (limit 2 GiB): circuit too large`);
    }
    const have = this.tm.memory.buffer.byteLength;
    if (end + WASM_SCRATCH > have) {
      this.tm.memory.grow(Math.ceil((end + WASM_SCRATCH - have) / 65536));
      this.refresh();
    }
    this.top = end;
    this.tm.u32[0] = end; // the wasm's own scratch space starts above everything we hold
    return p;
  }

  /** Zeroes everything allocated here and the scratch above it, and gives the space back. */
  wipe(): void {
    this.u8.fill(0, this.base);
    this.top = this.base;
    this.tm.u32[0] = this.base;
  }

  // Fr in Montgomery form, by pointer.
  mul(a: number, b: number, r: number): void {
    this.ex.frm_mul!(a, b, r);
  }
  add(a: number, b: number, r: number): void {
    this.ex.frm_add!(a, b, r);
  }
  sub(a: number, b: number, r: number): void {
    this.ex.frm_sub!(a, b, r);
  }
  copy(a: number, r: number): void {
    this.ex.frm_copy!(a, r);
  }
  inverse(a: number, r: number): void {
    this.ex.frm_inverse!(a, r);
  }
  isZero(a: number): boolean {
    return this.ex.frm_isZero!(a) !== 0;
  }
  set(p: number, bytes: Uint8Array): void {
    this.u8.set(bytes, p);
  }
}

// ---------------------------------------------------------------------------------------------
// Toxic waste
// ---------------------------------------------------------------------------------------------

function lessThanR(b: Uint8Array): boolean {
  for (let i = N8 - 1; i >= 0; i--) {
    const x = b[i] ?? 0;
    const y = R_LE[i] ?? 0;
    if (x !== y) return x < y;
  }
  return false;
}

function isAllZero(b: Uint8Array): boolean {
  for (const x of b) if (x !== 0) return false;
  return true;
}

/**
 * Writes a uniform nonzero element of Fr (Montgomery form) at p: rejection sampling on 254-bit
 * strings, from the OS or, for tests, from SHA-512 over the given entropy.
 */
function sampleSecret(arena: WasmArena, p: number, label: string, entropy: Uint8Array | undefined): void {
  for (let counter = 0; ; counter++) {
    let candidate: Buffer;
    if (entropy) {
      const h = createHash('sha512');
      h.update('medrollup devKeygen toxic waste v1\0');
      h.update(entropy);
      h.update(`\0${label}\0${counter}`);
      const digest = h.digest();
      candidate = Buffer.from(digest.subarray(0, N8));
      digest.fill(0);
    } else {
      candidate = randomBytes(N8);
    }
    candidate[N8 - 1]! &= 0x3f; // r < 2^254
    const ok = lessThanR(candidate) && !isAllZero(candidate);
    if (ok) arena.set(p, candidate);
    candidate.fill(0);
    if (ok) {
      arena.ex.frm_toMontgomery!(p, p);
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Lagrange values: out[j] = k * x_j / (tau - x_j) with x_j = g * w^(start + j)
// ---------------------------------------------------------------------------------------------

class Lagrange {
  private readonly pX: number;
  private readonly pExp: number;
  private readonly pXs: number;
  private readonly pDen: number;
  private readonly pInv: number;

  constructor(
    private readonly arena: WasmArena,
    private readonly pTau: number,
    private readonly pOne: number,
  ) {
    this.pX = arena.alloc(N8);
    this.pExp = arena.alloc(N8);
    this.pXs = arena.alloc(LAGRANGE_CHUNK * N8);
    this.pDen = arena.alloc(LAGRANGE_CHUNK * N8);
    this.pInv = arena.alloc(LAGRANGE_CHUNK * N8);
  }

  /** Fills count (<= LAGRANGE_CHUNK) values at pOut; g, w and k are pointers to Montgomery elements. */
  chunk(pOut: number, start: number, count: number, pG: number, pW: number, pK: number): void {
    const a = this.arena;
    if (start === 0) {
      a.copy(this.pOne, this.pX);
    } else {
      a.u8.fill(0, this.pExp, this.pExp + N8);
      a.dv.setUint32(this.pExp, start, true);
      a.ex.frm_exp!(pW, this.pExp, N8, this.pX);
    }
    a.mul(this.pX, pG, this.pX);
    for (let j = 0; j < count; j++) {
      const o = j * N8;
      a.copy(this.pX, this.pXs + o);
      a.sub(this.pTau, this.pX, this.pDen + o);
      a.mul(this.pX, pW, this.pX);
    }
    a.ex.frm_batchInverse!(this.pDen, N8, count, this.pInv, N8);
    for (let j = 0; j < count; j++) {
      const o = j * N8;
      a.mul(this.pXs + o, this.pInv + o, pOut + o);
      a.mul(pOut + o, pK, pOut + o);
    }
  }
}

/** L_c(tau) of the n-domain for increasing c, a chunk at a time. */
class LagrangeCursor {
  private start = -1;
  private count = 0;
  private readonly pBuf: number;

  constructor(
    arena: WasmArena,
    private readonly lagrange: Lagrange,
    private readonly domainSize: number,
    private readonly pW: number,
    private readonly pK: number,
    private readonly pOne: number,
  ) {
    this.pBuf = arena.alloc(LAGRANGE_CHUNK * N8);
  }

  at(c: number): number {
    if (c < this.start || c >= this.start + this.count) {
      this.start = c;
      this.count = Math.min(LAGRANGE_CHUNK, this.domainSize - c);
      this.lagrange.chunk(this.pBuf, c, this.count, this.pOne, this.pW, this.pK);
    }
    return this.pBuf + (c - this.start) * N8;
  }
}

// ---------------------------------------------------------------------------------------------
// R1CS constraints section, streamed through a window in wasm memory
// ---------------------------------------------------------------------------------------------

class R1csStream {
  /** Absolute wasm address of the next unread byte, and one past the last loaded byte. */
  cur = 0;
  lim = 0;
  private filePos = 0;
  private pWin = 0;
  private winSize = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly arena: WasmArena,
    private readonly start: number,
    private readonly size: number,
  ) {
    this.allocWindow(R1CS_WINDOW);
    this.rewind();
  }

  private allocWindow(size: number): void {
    this.winSize = size;
    this.pWin = this.arena.alloc(size);
  }

  rewind(): void {
    this.filePos = this.start;
    this.cur = this.pWin;
    this.lim = this.pWin;
  }

  get done(): boolean {
    return this.cur === this.lim && this.filePos === this.start + this.size;
  }

  /** Makes at least k bytes available at cur. */
  async need(k: number): Promise<void> {
    if (this.cur + k <= this.lim) return;
    const rest = this.lim - this.cur;
    if (k > this.winSize) {
      const old = this.cur;
      this.allocWindow(Math.max(2 * k, 2 * this.winSize)); // the old window is abandoned
      this.arena.u8.copyWithin(this.pWin, old, old + rest);
    } else {
      this.arena.u8.copyWithin(this.pWin, this.cur, this.lim);
    }
    this.cur = this.pWin;
    this.lim = this.pWin + rest;
    const end = this.start + this.size;
    while (this.lim - this.cur < k) {
      const want = Math.min(this.pWin + this.winSize - this.lim, end - this.filePos);
      if (want <= 0) throw new Error('devKeygen: R1CS constraints section is truncated');
      const { bytesRead } = await this.fh.read(this.arena.u8, this.lim, want, this.filePos);
      if (bytesRead <= 0) throw new Error('devKeygen: unexpected end of the R1CS file');
      this.filePos += bytesRead;
      this.lim += bytesRead;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Fixed-base scalar multiplication workers (plain JS, run with eval so that tsx, jest and node
// all run them unchanged). Comb: table T[k][d-1] = d * 2^(c k) * G, k < ceil(254/c), 0 < d < 2^c;
// s * G = sum_k T[k][digit_k(s)]. Scalars arrive in standard form (little endian), points leave
// as affine Montgomery little endian, i.e. snarkjs's LEM, (0,0) for infinity.
// ---------------------------------------------------------------------------------------------

const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const memory = new WebAssembly.Memory({ initial: 64 });
const instance = new WebAssembly.Instance(new WebAssembly.Module(workerData.code), { env: { memory } });
const ex = instance.exports;
const base = new Uint32Array(memory.buffer)[0];
let u8 = new Uint8Array(memory.buffer);
let u32 = new Uint32Array(memory.buffer);
const SCRATCH = ${WASM_SCRATCH};
const LIMIT = ${WASM_LIMIT};
let top = base;
function alloc(bytes) {
  const p = Math.ceil(top / 64) * 64;
  const end = p + bytes;
  if (end + SCRATCH > LIMIT) throw new Error('devKeygen worker: out of wasm memory');
  const have = memory.buffer.byteLength;
  if (end + SCRATCH > have) {
    memory.grow(Math.ceil((end + SCRATCH - have) / 65536));
    u8 = new Uint8Array(memory.buffer);
    u32 = new Uint32Array(memory.buffer);
  }
  top = end;
  u32[0] = end;
  return p;
}
const groups = {
  g1: { f: 'g1m_', gen: workerData.pG1gen, sJ: ${G1_JACOBIAN}, sA: ${G1_AFFINE} },
  g2: { f: 'g2m_', gen: workerData.pG2gen, sJ: ${G2_JACOBIAN}, sA: ${G2_AFFINE} },
};
function buildTable(g, c) {
  const K = Math.ceil(254 / c);
  const D = (1 << c) - 1;
  const table = alloc(K * D * g.sA);
  const tmp = alloc(D * g.sJ);
  const pBase = alloc(g.sJ);
  const pBaseA = alloc(g.sA);
  const addMixed = ex[g.f + 'addMixed'];
  ex[g.f + 'copy'](g.gen, pBase);
  for (let k = 0; k < K; k++) {
    ex[g.f + 'toAffine'](pBase, pBaseA);
    ex[g.f + 'copy'](pBase, tmp);
    for (let d = 1; d < D; d++) addMixed(tmp + (d - 1) * g.sJ, pBaseA, tmp + d * g.sJ);
    ex[g.f + 'batchToAffine'](tmp, D, table + k * D * g.sA);
    for (let i = 0; i < c; i++) ex[g.f + 'double'](pBase, pBase);
  }
  g.c = c; g.K = K; g.D = D; g.table = table;
}
function multiply(g, scalars, n) {
  if (!g.accN || g.accN < n) {
    g.acc = alloc(n * g.sJ);
    g.out = alloc(n * g.sA);
    g.accN = n;
  }
  const { c, K, D, table, sA, sJ, acc } = g;
  const mask = (1 << c) - 1;
  const addMixed = ex[g.f + 'addMixed'];
  const zero = ex[g.f + 'zero'];
  for (let i = 0; i < n; i++) {
    const pa = acc + i * sJ;
    zero(pa);
    const o = i * 32;
    for (let k = 0; k < K; k++) {
      const bit = k * c;
      const byte = bit >>> 3;
      let v = scalars[o + byte];
      if (byte + 1 < 32) v |= scalars[o + byte + 1] << 8;
      if (byte + 2 < 32) v |= scalars[o + byte + 2] << 16;
      const d = (v >>> (bit & 7)) & mask;
      if (d !== 0) addMixed(pa, table + (k * D + d - 1) * sA, pa);
    }
  }
  ex[g.f + 'batchToAffine'](acc, n, g.out);
  const res = u8.slice(g.out, g.out + n * sA);
  u8.fill(0, acc, acc + n * sJ);
  return res;
}
// Messages posted meanwhile wait in the port until the listener below is attached.
buildTable(groups.g1, workerData.windows.g1);
buildTable(groups.g2, workerData.windows.g2);
parentPort.on('message', (msg) => {
  try {
    if (msg.cmd === 'wipe') {
      u8.fill(0, base);
      parentPort.postMessage({ id: msg.id });
      return;
    }
    const g = groups[msg.group];
    const scalars = new Uint8Array(msg.scalars);
    const points = multiply(g, scalars, msg.n);
    scalars.fill(0);
    parentPort.postMessage({ id: msg.id, points: points.buffer }, [points.buffer]);
  } catch (err) {
    parentPort.postMessage({ id: msg.id, error: String(err && err.stack || err) });
  }
});
`;

type Group = 'g1' | 'g2';

interface WorkerReply {
  id: number;
  points?: ArrayBuffer;
  error?: string;
}

interface Job {
  id: number;
  msg: Record<string, unknown>;
  transfer: ArrayBuffer[];
  resolve: (points: Uint8Array) => void;
  reject: (err: Error) => void;
}

class PointWorkers {
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<Worker, Job>();
  private nextId = 0;
  private failed: Error | undefined;

  private constructor(private readonly workers: Worker[]) {
    for (const w of workers) {
      w.on('message', (reply: WorkerReply) => this.onReply(w, reply));
      w.on('error', (err) => this.fail(err instanceof Error ? err : new Error(String(err))));
      w.on('exit', (code) => {
        if (this.running.has(w) || code !== 0) this.fail(new Error(`devKeygen worker exited with code ${code}`));
      });
      this.idle.push(w);
    }
  }

  /** Starts n workers; each builds its comb tables (windows in bits) at once. */
  static start(n: number, tm: ThreadManager, windows: Record<Group, number>): PointWorkers {
    const workerData = { code: tm.code, pG1gen: tm.pG1gen, pG2gen: tm.pG2gen, windows };
    // execArgv: [] keeps loaders of the parent (tsx, jest's flags) out of the plain-JS workers.
    return new PointWorkers(Array.from({ length: n }, () => new Worker(WORKER_SOURCE, { eval: true, workerData, execArgv: [] })));
  }

  /** [s_i]G for n scalars (32 bytes each, standard form); the scalar buffer is transferred and zeroed. */
  multiply(group: Group, scalars: Uint8Array, n: number): Promise<Uint8Array> {
    const buf = scalars.buffer as ArrayBuffer;
    return this.submit({ group, n, scalars: buf }, [buf]);
  }

  private submit(msg: Record<string, unknown>, transfer: ArrayBuffer[]): Promise<Uint8Array> {
    return new Promise((resolveJob, rejectJob) => {
      if (this.failed) {
        rejectJob(this.failed);
        return;
      }
      const id = this.nextId++;
      this.queue.push({ id, msg: { ...msg, id }, transfer, resolve: resolveJob, reject: rejectJob });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(w, job);
      w.postMessage(job.msg, job.transfer);
    }
  }

  private onReply(w: Worker, reply: WorkerReply): void {
    const job = this.running.get(w);
    this.running.delete(w);
    this.idle.push(w);
    if (job) {
      if (reply.error !== undefined) job.reject(new Error(`devKeygen worker: ${reply.error}`));
      else job.resolve(new Uint8Array(reply.points ?? new ArrayBuffer(0)));
    }
    this.pump();
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    for (const job of [...this.running.values(), ...this.queue]) job.reject(err);
    this.running.clear();
    this.queue.length = 0;
  }

  /** Zeroes every worker's wasm memory, then stops them. */
  async close(): Promise<void> {
    if (!this.failed) {
      await Promise.all(
        this.workers.map(
          (w) =>
            new Promise<void>((done) => {
              const timer = setTimeout(done, 10_000); // a wedged worker is terminated below anyway
              w.once('message', () => {
                clearTimeout(timer);
                done();
              });
              w.postMessage({ cmd: 'wipe', id: -1 });
            }),
        ),
      );
    }
    this.failed ??= new Error('devKeygen workers closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/** Comb window minimising additions for n points per worker, table build counted at 1.5 additions per entry. */
function combWindow(n: number): number {
  let best = 2;
  let bestCost = Infinity;
  for (let c = 2; c <= 16; c++) {
    const cost = (n + 1.5 * 2 ** c) * Math.ceil(254 / c);
    if (cost < bestCost) {
      bestCost = cost;
      best = c;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// zkey writer: sections with patched sizes, blake2b-512 fingerprint of sections 2..9
// ---------------------------------------------------------------------------------------------

class ZkeyWriter {
  private pos = 0;
  private sizePos = -1;
  private hashing = false;
  private readonly hash = createHash('blake2b512');
  private readonly stage = Buffer.alloc(1 << 20);
  private staged = 0;

  private constructor(private readonly fh: FileHandle) {}

  static async create(path: string, nSections: number): Promise<ZkeyWriter> {
    const w = new ZkeyWriter(await open(path, 'w'));
    const head = Buffer.alloc(12);
    head.write('zkey', 0, 'latin1');
    head.writeUInt32LE(1, 4); // version
    head.writeUInt32LE(nSections, 8);
    await w.raw(head);
    return w;
  }

  private async raw(bytes: Uint8Array): Promise<void> {
    if (bytes.length <= this.stage.length - this.staged) {
      this.stage.set(bytes, this.staged);
      this.staged += bytes.length;
      return;
    }
    await this.flush();
    if (bytes.length <= this.stage.length) {
      this.stage.set(bytes, 0);
      this.staged = bytes.length;
      return;
    }
    await this.writeAt(bytes, this.pos);
    this.pos += bytes.length;
  }

  private async writeAt(bytes: Uint8Array, position: number): Promise<void> {
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await this.fh.write(bytes, off, bytes.length - off, position + off);
      off += bytesWritten;
    }
  }

  private async flush(): Promise<void> {
    if (this.staged === 0) return;
    await this.writeAt(this.stage.subarray(0, this.staged), this.pos);
    this.pos += this.staged;
    this.staged = 0;
  }

  /** Writes (or copies) bytes before returning, so the caller may reuse the memory behind them. */
  async write(bytes: Uint8Array): Promise<void> {
    if (this.hashing) this.hash.update(bytes);
    await this.raw(bytes);
  }

  async startSection(id: number): Promise<void> {
    if (this.sizePos >= 0) throw new Error('devKeygen: section already open');
    const head = Buffer.alloc(12);
    head.writeUInt32LE(id, 0);
    await this.raw(head);
    this.sizePos = this.pos + this.staged - 8;
    this.hashing = id >= 2 && id <= 9;
    if (this.hashing) this.hash.update(head.subarray(0, 4));
  }

  async endSection(): Promise<void> {
    await this.flush();
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(this.pos - this.sizePos - 8));
    await this.writeAt(size, this.sizePos);
    this.sizePos = -1;
    this.hashing = false;
  }

  fingerprint(): Buffer {
    return this.hash.digest();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.fh.close();
  }

  async abort(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Progress
// ---------------------------------------------------------------------------------------------

function fmtDuration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}

function fmtCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(Math.round(n));
}

class Progress {
  private doneUnits = 0;
  private readonly started = performance.now();
  private lastLog = 0;

  constructor(
    private readonly log: (msg: string) => void,
    private readonly totalUnits: number,
  ) {}

  /** A section of `total` points worth `units` of the overall work (zero scalars cost almost nothing). */
  phase(name: string, total: number, units: number): { advance(n: number): void; end(): void } {
    const t0 = performance.now();
    let done = 0;
    const line = (final: boolean) => {
      const secs = (performance.now() - t0) / 1000;
      const rate = done / Math.max(secs, 1e-3);
      const overall = this.doneUnits / Math.max(this.totalUnits, 1);
      const elapsed = (performance.now() - this.started) / 1000;
      const eta = overall > 0 ? (elapsed / overall) * (1 - overall) : NaN;
      const pct = total > 0 ? (100 * done) / total : 100;
      this.log(
        `[devKeygen] ${name}: ${final ? 'done' : `${pct.toFixed(1)}%`} ${fmtCount(done)}/${fmtCount(total)} points ` +
          `in ${secs.toFixed(1)}s (${fmtCount(rate)} pts/s); points overall ${(100 * overall).toFixed(1)}%` +
          (final ? '' : `, ETA ${fmtDuration(eta)}`),
      );
    };
    return {
      advance: (n: number) => {
        done += n;
        this.doneUnits += total > 0 ? (n / total) * units : 0;
        const now = performance.now();
        if (now - this.lastLog > 3000 && done < total) {
          this.lastLog = now;
          line(false);
        }
      },
      end: () => line(true),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// The key generation
// ---------------------------------------------------------------------------------------------

/** floor(log2(v)) for v >= 1, 0 for v = 0 (as snarkjs's misc.log2). */
function log2Floor(v: number): number {
  return v <= 0 ? 0 : 31 - Math.clz32(v);
}

async function readR1csHeader(path: string): Promise<{ header: R1csHeader; constraints: BinSection }> {
  // binfileutils leaks its file handle when it rejects a file, so check the magic and version first.
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(8);
    const { bytesRead } = await fh.read(head, 0, 8, 0);
    if (bytesRead < 8 || head.toString('latin1', 0, 4) !== 'r1cs') throw new Error(`devKeygen: ${path} is not an R1CS file`);
    if (head.readUInt32LE(4) !== 1) throw new Error(`devKeygen: ${path}: unsupported R1CS version ${head.readUInt32LE(4)}`);
  } finally {
    await fh.close();
  }
  const { fd, sections } = await (await binfileutils()).readBinFile(path, 'r1cs', 1);
  try {
    // getFieldFromPrime: we only need the numbers, not an ffjavascript curve with worker threads.
    const header = await (await r1csfile()).readR1csHeader(fd, sections, { singleThread: true, getFieldFromPrime: (p: bigint) => ({ p }) });
    const s2 = sections[2];
    if (!s2 || s2.length !== 1 || !s2[0]) throw new Error(`devKeygen: ${path} has no single constraints section`);
    return { header, constraints: s2[0] };
  } finally {
    await fd.close();
  }
}

/** Pointers (main wasm memory, Montgomery form) to the public constants and the toxic waste. */
interface KeyScalars {
  pOne: number;
  /** Primitive n-th root of unity, the one snarkjs's FFT uses. */
  pW: number;
  /** Primitive 2n-th root: the prover's odd coset is w2 * w^i. */
  pW2: number;
  pTau: number;
  pAlpha: number;
  pBeta: number;
  pGamma: number;
  pDelta: number;
  pGammaInv: number;
  pDeltaInv: number;
  /** (tau^n - 1) / n: L_j(tau) = kN * w^j / (tau - w^j). */
  pKN: number;
  /** (tau^2n - 1) / (2n delta): H_i = kH * x_i / (tau - x_i), x_i = w2 * w^i. */
  pKH: number;
}

function sampleToxicWaste(arena: WasmArena, curve: Bn128, power: number, entropy: Uint8Array | undefined): KeyScalars {
  const el = () => arena.alloc(N8);
  const k: KeyScalars = {
    pOne: el(),
    pW: el(),
    pW2: el(),
    pTau: el(),
    pAlpha: el(),
    pBeta: el(),
    pGamma: el(),
    pDelta: el(),
    pGammaInv: el(),
    pDeltaInv: el(),
    pKN: el(),
    pKH: el(),
  };
  arena.set(k.pOne, curve.Fr.one);
  arena.set(k.pW, curve.Fr.w[power]!);
  arena.set(k.pW2, curve.Fr.w[power + 1]!);
  const pTmp = el();
  /** r = tau^(2^e) - 1 */
  const powMinusOne = (e: number, r: number) => {
    arena.copy(k.pTau, r);
    for (let i = 0; i < e; i++) arena.mul(r, r, r);
    arena.sub(r, k.pOne, r);
  };
  for (let attempt = 0; ; attempt++) {
    sampleSecret(arena, k.pTau, `tau${attempt}`, entropy);
    powMinusOne(power + 1, pTmp); // tau must avoid both domains: tau^(2n) != 1
    if (!arena.isZero(pTmp)) break;
  }
  sampleSecret(arena, k.pAlpha, 'alpha', entropy);
  sampleSecret(arena, k.pBeta, 'beta', entropy);
  sampleSecret(arena, k.pGamma, 'gamma', entropy);
  sampleSecret(arena, k.pDelta, 'delta', entropy);
  arena.inverse(k.pGamma, k.pGammaInv);
  arena.inverse(k.pDelta, k.pDeltaInv);
  powMinusOne(power, k.pKN);
  arena.set(pTmp, curve.Fr.e(2 ** power));
  arena.inverse(pTmp, pTmp);
  arena.mul(k.pKN, pTmp, k.pKN);
  powMinusOne(power + 1, k.pKH);
  arena.set(pTmp, curve.Fr.e(2 ** (power + 1)));
  arena.inverse(pTmp, pTmp);
  arena.mul(k.pKH, pTmp, k.pKH);
  arena.mul(k.pKH, k.pDeltaInv, k.pKH);
  return k;
}

/**
 * Pass 1 over the constraints: checks the structure, counts the A and B coefficients (section 4
 * starts with that count, snarkjs's extra rows included) and the variables with a nonzero A or B
 * column (the zero ones cost nothing in the comb; the counts size the comb windows).
 */
async function scanConstraints(
  rd: R1csStream,
  arena: WasmArena,
  nConstraints: number,
  nVars: number,
  nPublic: number,
): Promise<{ nCoefs: number; nnzA: number; nnzB: number }> {
  const usedIn = [new Uint8Array(nVars), new Uint8Array(nVars)];
  let nCoefs = nPublic + 1;
  for (let c = 0; c < nConstraints; c++) {
    for (let m = 0; m < 3; m++) {
      if (rd.cur + 4 > rd.lim) await rd.need(4);
      const nT = arena.dv.getUint32(rd.cur, true);
      rd.cur += 4;
      const bytes = nT * R1CS_TERM;
      if (rd.cur + bytes > rd.lim) await rd.need(bytes);
      const dv = arena.dv;
      const used = usedIn[m];
      for (let t = 0, p = rd.cur; t < nT; t++, p += R1CS_TERM) {
        const s = dv.getUint32(p, true);
        if (s >= nVars) throw new Error(`devKeygen: constraint ${c} refers to signal ${s} >= nVars ${nVars}`);
        if (used) used[s] = 1;
      }
      rd.cur += bytes;
      if (m < 2) nCoefs += nT;
    }
  }
  if (!rd.done) throw new Error('devKeygen: trailing bytes in the R1CS constraints section');
  usedIn[0]!.fill(1, 0, nPublic + 1);
  const count = (u: Uint8Array) => u.reduce((acc, x) => acc + x, 0);
  return { nCoefs, nnzA: count(usedIn[0]!), nnzB: count(usedIn[1]!) };
}

/**
 * Pass 2: writes section 4 (snarkjs's coefficient list: A and B terms in R1CS order as
 * (matrix, constraint, signal, coef * R^2), then A[nConstraints + s][s] = 1 for s <= nPublic) and
 * accumulates, per variable, A_i(tau), B_i(tau) and K_i = beta A_i + alpha B_i + C_i.
 */
async function accumulate(
  rd: R1csStream,
  arena: WasmArena,
  out: ZkeyWriter,
  cursor: LagrangeCursor,
  k: KeyScalars,
  acc: { pA: number; pB: number; pK: number },
  dims: { nConstraints: number; nPublic: number; nCoefs: number },
  log: (msg: string) => void,
): Promise<void> {
  const { pA, pB, pK } = acc;
  const { nConstraints, nPublic } = dims;
  const t0 = performance.now();
  const ex = arena.ex;
  const toMont = ex.frm_toMontgomery!;
  const mul = ex.frm_mul!;
  const add = ex.frm_add!;
  const pT = arena.alloc(N8);
  const pCoefs = arena.alloc(COEF_CHUNK * COEF_ENTRY);
  let nBuffered = 0;
  let nWritten = 0;
  const flushCoefs = async () => {
    await out.write(arena.u8.subarray(pCoefs, pCoefs + nBuffered * COEF_ENTRY));
    nWritten += nBuffered;
    nBuffered = 0;
  };
  const pushCoef = (m: number, c: number, s: number, pCoef: number) => {
    const e = pCoefs + nBuffered * COEF_ENTRY;
    arena.dv.setUint32(e, m, true);
    arena.dv.setUint32(e + 4, c, true);
    arena.dv.setUint32(e + 8, s, true);
    toMont(pCoef, e + 12); // Montgomery form of the Montgomery form: coef * R^2, as zkey_new.js writeCoef
    nBuffered++;
  };
  rd.rewind();
  await out.startSection(4);
  await out.write(leU32(dims.nCoefs));
  let lastLog = t0;
  for (let c = 0; c < nConstraints; c++) {
    const pL = cursor.at(c);
    for (let m = 0; m < 3; m++) {
      if (rd.cur + 4 > rd.lim) await rd.need(4);
      const nT = arena.dv.getUint32(rd.cur, true);
      rd.cur += 4;
      const bytes = nT * R1CS_TERM;
      if (rd.cur + bytes > rd.lim) await rd.need(bytes);
      if (m < 2 && nBuffered + nT > COEF_CHUNK) await flushCoefs();
      const dv = arena.dv;
      for (let t = 0, p = rd.cur; t < nT; t++, p += R1CS_TERM) {
        const s = dv.getUint32(p, true);
        toMont(p + 4, pT); // the coefficient as a field element
        if (m < 2) {
          if (nBuffered >= COEF_CHUNK) await flushCoefs(); // only for an LC of more than COEF_CHUNK terms
          pushCoef(m, c, s, pT);
        }
        mul(pT, pL, pT);
        if (m === 0) {
          add(pA + s * N8, pT, pA + s * N8);
          mul(pT, k.pBeta, pT);
        } else if (m === 1) {
          add(pB + s * N8, pT, pB + s * N8);
          mul(pT, k.pAlpha, pT);
        }
        add(pK + s * N8, pT, pK + s * N8);
      }
      rd.cur += bytes;
    }
    if ((c & 0x3fff) === 0 && performance.now() - lastLog > 3000) {
      lastLog = performance.now();
      const rate = c / ((lastLog - t0) / 1000);
      log(`[devKeygen] constraints: ${((100 * c) / nConstraints).toFixed(1)}% ${fmtCount(c)}/${fmtCount(nConstraints)} (${fmtCount(rate)}/s)`);
    }
  }
  for (let s = 0; s <= nPublic; s++) {
    const c = nConstraints + s;
    const pL = cursor.at(c);
    if (nBuffered >= COEF_CHUNK) await flushCoefs();
    pushCoef(0, c, s, k.pOne);
    add(pA + s * N8, pL, pA + s * N8);
    mul(pL, k.pBeta, pT);
    add(pK + s * N8, pT, pK + s * N8);
  }
  await flushCoefs();
  await out.endSection();
  if (nWritten !== dims.nCoefs) throw new Error(`devKeygen: internal error, ${nWritten} coefficients written, ${dims.nCoefs} counted`);
  log(`[devKeygen] constraints: done, ${dims.nCoefs} A/B coefficients in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
}

export async function devKeygen(opts: DevKeygenOptions): Promise<DevKeygenResult> {
  const t0 = performance.now();
  const log = opts.log ?? ((msg: string) => console.log(msg));
  log(`[devKeygen] WARNING: ${INSECURE_WARNING}`);

  const { header, constraints } = await readR1csHeader(opts.r1csPath);
  if (BigInt(header.prime) !== BN254_R) throw new Error('devKeygen: the R1CS is not over the BN254 scalar field');
  if (header.n8 !== N8) throw new Error(`devKeygen: unexpected R1CS field size ${header.n8}`);
  if (header.useCustomGates) throw new Error('devKeygen: R1CS with custom gates (PLONK only) cannot have a Groth16 key');
  const { nVars, nConstraints } = header;
  const nPublic = header.nOutputs + header.nPubInputs;
  if (nVars < nPublic + 1) throw new Error('devKeygen: malformed R1CS header (nVars < nPublic + 1)');
  // As snarkjs zkey_new: the smallest power of two > nConstraints + nPublic (room for the extra rows).
  const power = log2Floor(nConstraints + nPublic) + 1;
  const domainSize = 2 ** power;
  const nWorkers = Math.max(1, Math.floor(opts.workers ?? availableParallelism()));
  log(
    `[devKeygen] ${opts.r1csPath}: ${nConstraints} constraints, ${nVars} variables, ${nPublic} public, ` +
      `domain 2^${power}; ${nWorkers} worker(s)`,
  );

  const curve = await (await ffjavascript()).buildBn128(true);
  if (power + 1 > curve.Fr.s) throw new Error(`devKeygen: domain 2^${power} too large (the H points need 2^${power + 1} <= 2^${curve.Fr.s})`);
  const arena = new WasmArena(curve.tm);
  const partial = `${opts.zkeyPath}.partial-${process.pid}`;
  let workers: PointWorkers | undefined;
  let out: ZkeyWriter | undefined;
  let r1csFh: FileHandle | undefined;
  try {
    const k = sampleToxicWaste(arena, curve, power, opts.entropy);
    const lagrange = new Lagrange(arena, k.pTau, k.pOne);
    const cursor = new LagrangeCursor(arena, lagrange, domainSize, k.pW, k.pKN, k.pOne);
    // Accumulators per variable: A_i(tau), B_i(tau), K_i (zero is all-zero bytes in Montgomery form too).
    const acc = { pA: arena.alloc(nVars * N8), pB: arena.alloc(nVars * N8), pK: arena.alloc(nVars * N8) };
    arena.u8.fill(0, acc.pA, acc.pK + nVars * N8);

    r1csFh = await open(opts.r1csPath, 'r');
    const rd = new R1csStream(r1csFh, arena, constraints.p, constraints.size);
    const { nCoefs, nnzA, nnzB } = await scanConstraints(rd, arena, nConstraints, nVars, nPublic);

    // The workers build their comb tables while this thread runs pass 2.
    const g1Points = nPublic + 1 + domainSize + (nVars - nPublic - 1) + nnzA + nnzB;
    const windows = { g1: combWindow(g1Points / nWorkers), g2: combWindow(nnzB / nWorkers) };
    log(`[devKeygen] points: ${fmtCount(g1Points)} G1 and ${fmtCount(nnzB)} G2 to compute; comb windows ${windows.g1}/${windows.g2} bits`);
    workers = PointWorkers.start(nWorkers, curve.tm, windows);
    out = await ZkeyWriter.create(partial, 10);

    // Section 1: protocol (1 = Groth16).
    await out.startSection(1);
    await out.write(leU32(1));
    await out.endSection();

    // Section 2: Groth16 header.
    const pStd = arena.alloc(N8);
    const pJac = arena.alloc(G2_JACOBIAN);
    const pAff = arena.alloc(G2_AFFINE);
    const fixed = (group: Group, pScalar: number): Uint8Array => {
      const f = group === 'g1' ? 'g1m_' : 'g2m_';
      arena.ex.frm_fromMontgomery!(pScalar, pStd);
      arena.ex[`${f}timesScalar`]!(group === 'g1' ? curve.tm.pG1gen : curve.tm.pG2gen, pStd, N8, pJac);
      arena.ex[`${f}toAffine`]!(pJac, pAff);
      const point = arena.u8.slice(pAff, pAff + (group === 'g1' ? G1_AFFINE : G2_AFFINE));
      arena.u8.fill(0, pStd, pStd + N8);
      return point;
    };
    await out.startSection(2);
    for (const v of [leU32(N8), leBytes(BN254_Q, N8), leU32(N8), leBytes(BN254_R, N8), leU32(nVars), leU32(nPublic), leU32(domainSize)]) {
      await out.write(v);
    }
    await out.write(fixed('g1', k.pAlpha)); // alpha1
    await out.write(fixed('g1', k.pBeta)); // beta1
    await out.write(fixed('g2', k.pBeta)); // beta2
    await out.write(fixed('g2', k.pGamma)); // gamma2
    await out.write(fixed('g1', k.pDelta)); // delta1
    await out.write(fixed('g2', k.pDelta)); // delta2
    await out.endSection();

    // Section 4, and A_i, B_i, K_i.
    await accumulate(rd, arena, out, cursor, k, acc, { nConstraints, nPublic, nCoefs }, log);
    await r1csFh.close();
    r1csFh = undefined;

    // Point sections, in the order of snarkjs zkey_new: 3 IC, 9 H, 8 C, 5 A, 6 B1, 7 B2.
    const progress = new Progress(log, g1Points + G2_WEIGHT * nnzB);
    const pChunk = arena.alloc(POINT_CHUNK * N8);
    const section = async (id: number, name: string, group: Group, count: number, units: number, fill: (start: number, n: number, dst: number) => void) => {
      const ph = progress.phase(name, count, units);
      await out!.startSection(id);
      const pending: { n: number; points: Promise<Uint8Array> }[] = [];
      const drainOne = async () => {
        const job = pending.shift()!;
        await out!.write(await job.points);
        ph.advance(job.n);
      };
      for (let start = 0; start < count; start += POINT_CHUNK) {
        const n = Math.min(POINT_CHUNK, count - start);
        fill(start, n, pChunk);
        arena.ex.frm_batchFromMontgomery!(pChunk, n, pChunk);
        const scalars = arena.u8.slice(pChunk, pChunk + n * N8);
        arena.u8.fill(0, pChunk, pChunk + n * N8);
        const points = workers!.multiply(group, scalars, n);
        points.catch(() => undefined); // rejections surface when awaited in order; never unhandled
        pending.push({ n, points });
        if (pending.length >= 2 * nWorkers) await drainOne();
      }
      while (pending.length > 0) await drainOne();
      await out!.endSection();
      ph.end();
    };
    const fromArray =
      (pArr: number, first: number, pFactor?: number) =>
      (start: number, n: number, dst: number): void => {
        for (let i = 0; i < n; i++) {
          const src = pArr + (first + start + i) * N8;
          if (pFactor === undefined) arena.copy(src, dst + i * N8);
          else arena.mul(src, pFactor, dst + i * N8);
        }
      };
    const nC = nVars - nPublic - 1;
    await section(3, 'IC (G1)', 'g1', nPublic + 1, nPublic + 1, fromArray(acc.pK, 0, k.pGammaInv));
    await section(9, 'H (G1)', 'g1', domainSize, domainSize, (start, n, dst) => {
      for (let o = 0; o < n; o += LAGRANGE_CHUNK) {
        lagrange.chunk(dst + o * N8, start + o, Math.min(LAGRANGE_CHUNK, n - o), k.pW2, k.pW, k.pKH);
      }
    });
    await section(8, 'C (G1)', 'g1', nC, nC, fromArray(acc.pK, nPublic + 1, k.pDeltaInv));
    await section(5, 'A (G1)', 'g1', nVars, nnzA, fromArray(acc.pA, 0));
    await section(6, 'B1 (G1)', 'g1', nVars, nnzB, fromArray(acc.pB, 0));
    await section(7, 'B2 (G2)', 'g2', nVars, G2_WEIGHT * nnzB, fromArray(acc.pB, 0));

    // Section 10: where snarkjs keeps its circuit hash, then no contributions.
    const fingerprint = out.fingerprint();
    await out.startSection(10);
    await out.write(fingerprint);
    await out.write(leU32(0));
    await out.endSection();
    await out.close();
    out = undefined;
    await rename(partial, opts.zkeyPath);

    const seconds = (performance.now() - t0) / 1000;
    log(
      `[devKeygen] wrote ${opts.zkeyPath} in ${seconds.toFixed(1)}s; fingerprint ${fingerprint.toString('hex').slice(0, 32)}...; ` +
        'toxic waste wiped. REMINDER: this is an INSECURE dev-only key.',
    );
    return { nConstraints, nVars, nPublic, domainSize, seconds };
  } catch (err) {
    await out?.abort();
    await rm(partial, { force: true });
    throw err;
  } finally {
    arena.wipe();
    await r1csFh?.close().catch(() => undefined);
    await workers?.close();
    await curve.terminate();
  }
}

function leU32(v: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v, 0);
  return b;
}

// ---------------------------------------------------------------------------------------------
// CLI
// ---------------------------------------------------------------------------------------------

async function main(argv: string[]): Promise<void> {
  const positional: string[] = [];
  let workers: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--workers') {
      workers = Number(argv[++i]);
      if (!Number.isInteger(workers) || workers < 1) throw new Error('--workers needs a positive integer');
    } else if (a === '-h' || a === '--help') {
      positional.length = 0;
      break;
    } else {
      positional.push(a);
    }
  }
  if (positional.length !== 2) {
    console.error('usage: tsx circuits/setup/devKeygen.ts <circuit.r1cs> <out.zkey> [--workers N]');
    console.error(`\n${INSECURE_WARNING}`);
    process.exitCode = 2;
    return;
  }
  const bar = '='.repeat(100);
  console.error(`${bar}\n${INSECURE_WARNING}\n${bar}`);
  const [r1csPath, zkeyPath] = positional as [string, string];
  const result = await devKeygen({ r1csPath, zkeyPath, workers, log: (msg) => console.log(msg) });
  console.log(JSON.stringify(result));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  });
}
