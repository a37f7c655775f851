/**
 * An O1-style R1CS simplifier that runs in Node, for circuits too large for circom2's own --O1
 * (circom2 is WASM with a 4 GB memory ceiling; the prod batch circuit only compiles at --O0).
 *
 *   const r = await simplifyR1cs('batch_o0.r1cs', 'batch.r1cs');      // writes batch.r1cs + batch.r1cs.map
 *   // witness: compute the FULL witness with the --O0 wasm, then keep only the surviving wires:
 *   await reduceWitness('full.wtns', r.mapPath, 'batch.wtns');
 *
 * What it does (circom's --O1 idea, generalised to affine equalities):
 *  - Every linear constraint (A or B empty or constant, so A*B - C = 0 is a linear combination
 *    L = 0) that, once rewritten through the substitutions found so far, mentions at most two
 *    non-constant wires `a*x + b*y + k = 0` (or `a*x + k = 0`) is removed, and one of its wires is
 *    substituted everywhere: `x := (-b/a)*y + (-k/a)` (or the constant `-k/a`). This covers circom's
 *    signal = signal and signal = constant equalities (the bulk of --O0's linear constraints) and
 *    also `x = c*y + d` (e.g. Poseidon's round-constant additions), so the result can be a little
 *    smaller than circom's --O1.
 *  - The substitutions live in a union-find over wires with an affine map per wire
 *    (wire = factor * parent + offset * ONE), path-compressed; coefficients are interned field
 *    elements referred to by a 32-bit index, so the per-wire state is three Uint32Arrays.
 *  - Protected wires are never substituted away: wire 0 (the constant ONE), the public outputs and
 *    inputs, and main's private inputs (so the header's nPrvIn stays meaningful and the witness
 *    calculator's input layout is unchanged). A substitution always eliminates an unprotected wire;
 *    of two unprotected wires the later (higher id) one goes.
 *  - After the streaming pass, the kept constraints are re-examined until a fixpoint (a worklist:
 *    a constraint is queued again when a wire it mentions is substituted): a non-linear constraint
 *    whose A or B became constant is linear, and a longer linear constraint may have shrunk to two
 *    wires.
 *  - Then (unless maxUses is 0) a general linear substitution, beyond circom's --O1 and close to
 *    what --O2 does but bounded: a linear constraint L = 0 with an unprotected wire x used by at
 *    most `maxUses` (default 2) other constraints, and at most `maxTerms` (default 16) wires, is
 *    removed and x := -(L - lx*x)/lx substituted into those constraints (any number of them when L
 *    has at most two wires). Each such step removes one constraint and one wire and adds at most
 *    maxUses * (maxTerms - 2) non-zero terms. Measured on the prod batch circuit: 4.26M -> 3.53M
 *    constraints (under 2^22, so a 2^22 powers-of-tau and FFT domain suffice) for +4 % terms.
 *  - Finally every kept constraint is rewritten through the substitutions (terms merged, zero terms
 *    dropped, linear ones written as A = B = 0, C = L), constraints that became 0 = 0 are dropped,
 *    and the wires still used (plus the protected ones) are renumbered densely in their original
 *    order, the protected ones keeping their positions. A wire that no constraint uses any more is
 *    dropped (its value is unconstrained).
 *
 * Every step keeps the set of solutions projected onto the surviving wires: a removed wire is a
 * function of surviving ones, so a proof for the simplified R1CS proves the same statement, and the
 * full --O0 witness restricted to the surviving wires (reduceWitness) satisfies it.
 *
 * Output: a .r1cs in the same iden3 binary format (header, constraints, wire-to-label map; the map
 * gives each new wire the ORIGINAL wire's label, which for circom's --O0 output is the original
 * wire id, so the circuit's .sym still names every wire), and `mapPath` (default
 * `<outputR1cs>.map`): magic "R1CSMAP1", u32 original wire count, u32 kept count, then the kept
 * original wire ids (u32 LE, ascending) in new order. reduceWitness uses it to cut a full witness.
 *
 * Memory: the input is streamed (64 MB reads); constraints that survive the streaming pass are kept
 * as flat Uint32Arrays of (wire, coefficient index), about 8 bytes per term, plus a few Int32/
 * Uint32Arrays of nWires entries. Prod batch circuit (16.7M constraints, 1.95 GB .r1cs): 16 s,
 * 1.3 GB peak RSS. Everything runs on the main thread (awaits only around file I/O).
 * Unsupported: custom gates (PLONK-only r1cs sections 4/5).
 */
import { open, type FileHandle } from 'node:fs/promises';

export interface SimplifyStats {
  constraints: number;
  wires: number;
  /** Constraints with non-constant A and B. */
  nonLinear: number;
  linear: number;
  /** Non-zero coefficients over A, B and C. */
  terms: number;
}

export interface SimplifyResult {
  r1csPath: string;
  mapPath: string;
  before: SimplifyStats;
  after: SimplifyStats;
  seconds: number;
  /** Wires substituted away (each removed one constraint). */
  substituted: number;
  /** Constraint examinations after the streaming pass (each kept constraint once, plus re-queues). */
  reexamined: number;
  /** Wires removed by the general linear substitution (see SimplifyOptions.maxUses), included in `substituted`. */
  linearSubstituted: number;
  /** Distinct field elements used as coefficients or offsets. */
  coefficients: number;
}

export interface SimplifyOptions {
  log?: (m: string) => void;
  /**
   * General linear substitution: a linear constraint whose unprotected wire x is used by at most
   * this many other constraints is removed and x substituted into them (their linear combinations
   * grow by the constraint's other terms). Default 2; 0 = equalities only (circom --O1's scope).
   */
  maxUses?: number;
  /** ... and only when that linear constraint has at most this many wires. Default 16. */
  maxTerms?: number;
  /** Where to write the wire map; default `${outputR1cs}.map`. */
  mapPath?: string;
}

const R1CS_MAGIC = 'r1cs';
const WTNS_MAGIC = 'wtns';
const MAP_MAGIC = 'R1CSMAP1';
const SECTION_HEADER = 1;
const SECTION_CONSTRAINTS = 2;
const SECTION_WIRE2LABEL = 3;
const READ_CHUNK = 64 << 20;
const WRITE_CHUNK = 16 << 20;
/** Terms per linear combination the writer can sort (2^20; new wire ids < 2^32, keys < 2^52). */
const SORT_INDEX_LIMIT = 2 ** 20;

/** Coefficient indices that are fixed: the table starts with 0, 1, -1. */
const ZERO = 0;
const ONE = 1;
const MINUS_ONE = 2;

/* ------------------------------------------------------------------------------------------------
 * Small helpers: growable Uint32 vectors, binary file sections, buffered writing.
 * ---------------------------------------------------------------------------------------------- */

class U32Vec {
  data: Uint32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Uint32Array(capacity);
  }
  reserve(extra: number): void {
    const need = this.length + extra;
    if (need <= this.data.length) return;
    let cap = this.data.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint32Array(cap);
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
  push(v: number): void {
    if (this.length === this.data.length) this.reserve(1);
    this.data[this.length++] = v;
  }
}

interface Section {
  type: number;
  /** Absolute file offset of the section body. */
  pos: number;
  size: number;
}

async function readExactly(fh: FileHandle, buf: Buffer, offset: number, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, offset + done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${position + done}`);
    done += bytesRead;
  }
}

/** The section table of an iden3 binary file ("r1cs", "wtns", ...). */
async function readSections(fh: FileHandle, magic: string, file: string): Promise<{ version: number; sections: Section[] }> {
  const { size: fileSize } = await fh.stat();
  const head = Buffer.alloc(12);
  await readExactly(fh, head, 0, 12, 0);
  const got = head.toString('latin1', 0, 4);
  if (got !== magic) throw new Error(`${file}: not a .${magic} file (magic ${JSON.stringify(got)})`);
  const version = head.readUInt32LE(4);
  const nSections = head.readUInt32LE(8);
  const sections: Section[] = [];
  const sh = Buffer.alloc(12);
  let pos = 12;
  for (let i = 0; i < nSections; i++) {
    await readExactly(fh, sh, 0, 12, pos);
    const type = sh.readUInt32LE(0);
    const size = Number(sh.readBigUInt64LE(4));
    pos += 12;
    if (pos + size > fileSize) throw new Error(`${file}: section ${type} runs past the end of the file`);
    sections.push({ type, pos, size });
    pos += size;
  }
  return { version, sections };
}

function uniqueSection(sections: Section[], type: number, file: string): Section {
  const found = sections.filter((s) => s.type === type);
  if (found.length !== 1) throw new Error(`${file}: expected exactly one section of type ${type}, found ${found.length}`);
  return found[0] as Section;
}

async function readSectionBytes(fh: FileHandle, s: Section): Promise<Buffer> {
  const buf = Buffer.alloc(s.size);
  await readExactly(fh, buf, 0, s.size, s.pos);
  return buf;
}

function bigintFromLE(buf: Buffer, pos: number, n8: number): bigint {
  let v = 0n;
  for (let j = n8 - 8; j >= 0; j -= 8) v = (v << 64n) | buf.readBigUInt64LE(pos + j);
  return v;
}

function bigintToLE(v: bigint, out: Uint8Array, pos: number, n8: number): void {
  let x = v;
  for (let j = 0; j < n8; j++) {
    out[pos + j] = Number(x & 0xffn);
    x >>= 8n;
  }
}

/** Sequential writer with section headers whose sizes are patched when the section ends. */
class BinWriter {
  private buf = Buffer.alloc(WRITE_CHUNK);
  private pos = 0;
  /** File offset of buf[0]. */
  private base = 0;
  private sectionSizeAt = -1;
  private sectionStart = 0;
  constructor(private readonly fh: FileHandle) {}

  get offset(): number {
    return this.base + this.pos;
  }
  /** True when n more bytes fit without a flush. */
  has(n: number): boolean {
    return this.pos + n <= this.buf.length;
  }
  async ensure(n: number): Promise<void> {
    if (this.pos + n <= this.buf.length) return;
    await this.flush();
    if (n > this.buf.length) this.buf = Buffer.alloc(n);
  }
  async flush(): Promise<void> {
    let done = 0;
    while (done < this.pos) {
      const { bytesWritten } = await this.fh.write(this.buf, done, this.pos - done, this.base + done);
      done += bytesWritten;
    }
    this.base += this.pos;
    this.pos = 0;
  }
  /** Caller must have ensured room. */
  u32(v: number): void {
    this.buf.writeUInt32LE(v, this.pos);
    this.pos += 4;
  }
  u64(v: number): void {
    this.buf.writeBigUInt64LE(BigInt(v), this.pos);
    this.pos += 8;
  }
  bytes(src: Uint8Array, start = 0, end = src.length): void {
    this.buf.set(src.subarray(start, end), this.pos);
    this.pos += end - start;
  }
  async bigBytes(src: Uint8Array): Promise<void> {
    for (let at = 0; at < src.length; at += WRITE_CHUNK) {
      const end = Math.min(src.length, at + WRITE_CHUNK);
      await this.ensure(end - at);
      this.bytes(src, at, end);
    }
  }
  async fileHeader(magic: string, version: number, nSections: number): Promise<void> {
    await this.ensure(12);
    this.buf.write(magic, this.pos, 'latin1');
    this.pos += 4;
    this.u32(version);
    this.u32(nSections);
  }
  async startSection(type: number): Promise<void> {
    await this.ensure(12);
    this.u32(type);
    this.sectionSizeAt = this.offset;
    this.u64(0);
    this.sectionStart = this.offset;
  }
  async endSection(): Promise<void> {
    const size = this.offset - this.sectionStart;
    await this.flush();
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(size));
    await this.fh.write(b, 0, 8, this.sectionSizeAt);
  }
}

/* ------------------------------------------------------------------------------------------------
 * The simplifier.
 * ---------------------------------------------------------------------------------------------- */

interface R1csHeader {
  n8: number;
  primeBytes: Buffer;
  prime: bigint;
  nWires: number;
  nPubOut: number;
  nPubIn: number;
  nPrvIn: number;
  nLabels: number;
  nConstraints: number;
}

function parseR1csHeader(b: Buffer, file: string): R1csHeader {
  const n8 = b.readUInt32LE(0);
  if (n8 % 8 !== 0 || n8 === 0) throw new Error(`${file}: unsupported field size ${n8} bytes`);
  const primeBytes = Buffer.from(b.subarray(4, 4 + n8));
  let at = 4 + n8;
  const u32 = () => {
    const v = b.readUInt32LE(at);
    at += 4;
    return v;
  };
  const nWires = u32();
  const nPubOut = u32();
  const nPubIn = u32();
  const nPrvIn = u32();
  const nLabels = Number(b.readBigUInt64LE(at));
  at += 8;
  const nConstraints = u32();
  return { n8, primeBytes, prime: bigintFromLE(primeBytes, 0, n8), nWires, nPubOut, nPubIn, nPrvIn, nLabels, nConstraints };
}

function modInverse(a: bigint, p: bigint): bigint {
  let [r0, r1] = [p, a % p];
  let [t0, t1] = [0n, 1n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  if (r0 !== 1n) throw new Error('coefficient has no inverse');
  return t0 < 0n ? t0 + p : t0;
}

/**
 * Simplifies `inputR1cs` (typically circom --O0 output) into `outputR1cs`; see the file comment.
 * Returns sizes before and after and the wall time.
 */
export async function simplifyR1cs(inputR1cs: string, outputR1cs: string, opts: SimplifyOptions = {}): Promise<SimplifyResult> {
  const fin = await open(inputR1cs, 'r');
  try {
    return await simplifyOpen(fin, inputR1cs, outputR1cs, opts);
  } finally {
    await fin.close();
  }
}

async function simplifyOpen(fin: FileHandle, inputR1cs: string, outputR1cs: string, opts: SimplifyOptions): Promise<SimplifyResult> {
  const log = opts.log ?? (() => {});
  const mapPath = opts.mapPath ?? `${outputR1cs}.map`;
  const maxUses = opts.maxUses ?? 2;
  const maxTerms = opts.maxTerms ?? 16;
  const t0 = performance.now();
  const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  const mem = () => `${Math.round(process.memoryUsage().rss / 2 ** 20)} MB rss`;

  const { version, sections } = await readSections(fin, R1CS_MAGIC, inputR1cs);
  if (version !== 1) throw new Error(`${inputR1cs}: unsupported r1cs version ${version}`);
  if (sections.some((s) => s.type === 4 || s.type === 5)) throw new Error(`${inputR1cs}: custom gates are not supported`);
  const hdr = parseR1csHeader(await readSectionBytes(fin, uniqueSection(sections, SECTION_HEADER, inputR1cs)), inputR1cs);
  const consSection = uniqueSection(sections, SECTION_CONSTRAINTS, inputR1cs);
  const mapSection = uniqueSection(sections, SECTION_WIRE2LABEL, inputR1cs);
  if (mapSection.size !== hdr.nWires * 8) throw new Error(`${inputR1cs}: wire-to-label map has ${mapSection.size} bytes for ${hdr.nWires} wires`);

  const { n8, prime: P, nWires, nConstraints } = hdr;
  const termBytes = 4 + n8;
  /** Wires 0..lastProtected are never substituted away (ONE, public outputs/inputs, private inputs). */
  const lastProtected = hdr.nPubOut + hdr.nPubIn + hdr.nPrvIn;
  log(`[simplify] ${inputR1cs}: ${nConstraints.toLocaleString('en-US')} constraints, ${nWires.toLocaleString('en-US')} wires, ${lastProtected} protected`);

  /* ---- coefficient table ---- */
  const coefs: bigint[] = [];
  const coefMap = new Map<bigint, number>();
  let coefBytes = new Uint8Array(n8 * 1024);
  const intern = (v: bigint): number => {
    let i = coefMap.get(v);
    if (i !== undefined) return i;
    i = coefs.length;
    coefs.push(v);
    coefMap.set(v, i);
    if ((i + 1) * n8 > coefBytes.length) {
      const next = new Uint8Array(coefBytes.length * 2);
      next.set(coefBytes);
      coefBytes = next;
    }
    bigintToLE(v, coefBytes, i * n8, n8);
    return i;
  };
  intern(0n);
  intern(1n);
  intern(P - 1n);
  const neg = (i: number): number => {
    if (i === ZERO) return ZERO;
    if (i === ONE) return MINUS_ONE;
    if (i === MINUS_ONE) return ONE;
    return intern(P - (coefs[i] as bigint));
  };
  const mul = (i: number, j: number): number => {
    if (i === ONE) return j;
    if (j === ONE) return i;
    if (i === ZERO || j === ZERO) return ZERO;
    if (i === MINUS_ONE) return neg(j);
    if (j === MINUS_ONE) return neg(i);
    return intern(((coefs[i] as bigint) * (coefs[j] as bigint)) % P);
  };
  const add = (i: number, j: number): number => {
    if (i === ZERO) return j;
    if (j === ZERO) return i;
    let s = (coefs[i] as bigint) + (coefs[j] as bigint);
    if (s >= P) s -= P;
    return intern(s);
  };
  const invCache = new Map<number, number>();
  const inv = (i: number): number => {
    if (i === ONE || i === MINUS_ONE) return i;
    let r = invCache.get(i);
    if (r === undefined) {
      r = intern(modInverse(coefs[i] as bigint, P));
      invCache.set(i, r);
    }
    return r;
  };
  // Fast recognition of 1 and -1 in the file (32-bit words, little-endian).
  const words = n8 / 4;
  const minusOneBytes = Buffer.alloc(n8);
  bigintToLE(P - 1n, minusOneBytes, 0, n8);
  const minusOneWords = Array.from({ length: words }, (_, k) => minusOneBytes.readUInt32LE(4 * k));
  const readCoef = (buf: Buffer, pos: number): number => {
    const w0 = buf.readUInt32LE(pos);
    if (w0 === 1) {
      let k = 1;
      while (k < words && buf.readUInt32LE(pos + 4 * k) === 0) k++;
      if (k === words) return ONE;
    } else if (w0 === minusOneWords[0]) {
      let k = 1;
      while (k < words && buf.readUInt32LE(pos + 4 * k) === minusOneWords[k]) k++;
      if (k === words) return MINUS_ONE;
    }
    let v = bigintFromLE(buf, pos, n8);
    if (v >= P) v %= P;
    return intern(v);
  };

  /* ---- union-find with affine maps: wire = coefs[factor] * parent + coefs[offset] * ONE ---- */
  const parent = new Uint32Array(nWires);
  for (let i = 0; i < nWires; i++) parent[i] = i;
  const factor = new Uint32Array(nWires).fill(ONE);
  const offset = new Uint32Array(nWires); // ZERO
  let pathStack = new Uint32Array(1024);
  let foundF = ONE;
  let foundG = ZERO;
  /** Root of w; sets foundF/foundG so that w = foundF * root + foundG. Compresses the path. */
  const find = (w: number): number => {
    const p = parent[w] as number;
    if (p === w) {
      foundF = ONE;
      foundG = ZERO;
      return w;
    }
    if (parent[p] === p) {
      foundF = factor[w] as number;
      foundG = offset[w] as number;
      return p;
    }
    let n = 0;
    let x = w;
    while (parent[x] !== x) {
      if (n === pathStack.length) {
        const next = new Uint32Array(n * 2);
        next.set(pathStack);
        pathStack = next;
      }
      pathStack[n++] = x;
      x = parent[x] as number;
    }
    const root = x;
    // pathStack[n-1] hangs directly off the root; walk down composing the maps.
    for (let i = n - 2; i >= 0; i--) {
      const node = pathStack[i] as number;
      const par = pathStack[i + 1] as number;
      const fn = factor[node] as number;
      factor[node] = mul(fn, factor[par] as number);
      offset[node] = add(mul(fn, offset[par] as number), offset[node] as number);
      parent[node] = root;
    }
    foundF = factor[w] as number;
    foundG = offset[w] as number;
    return root;
  };

  /* ---- sparse accumulator over wires ---- */
  const accPos = new Int32Array(nWires).fill(-1);
  let accW = new Uint32Array(1024);
  let accC = new Uint32Array(1024);
  let accN = 0;
  const accAdd = (w: number, c: number): void => {
    if (c === ZERO) return;
    const at = accPos[w] as number;
    if (at >= 0) {
      accC[at] = add(accC[at] as number, c);
      return;
    }
    if (accN === accW.length) {
      const nw = new Uint32Array(accN * 2);
      nw.set(accW);
      accW = nw;
      const nc = new Uint32Array(accN * 2);
      nc.set(accC);
      accC = nc;
    }
    accPos[w] = accN;
    accW[accN] = w;
    accC[accN] = c;
    accN++;
  };
  const accAddResolved = (w: number, c: number): void => {
    if (c === ZERO) return;
    const r = find(w);
    const f = foundF;
    const g = foundG;
    accAdd(r, mul(c, f));
    if (g !== ZERO) accAdd(0, mul(c, g));
  };
  /** Moves the accumulated non-zero terms into `out` (cleared first) and resets the accumulator. */
  const accTake = (out: U32Vec): void => {
    out.length = 0;
    out.reserve(accN * 2);
    const d = out.data;
    let k = 0;
    for (let i = 0; i < accN; i++) {
      const w = accW[i] as number;
      accPos[w] = -1;
      const c = accC[i] as number;
      if (c !== ZERO) {
        d[k++] = w;
        d[k++] = c;
      }
    }
    out.length = k;
    accN = 0;
  };

  /* ---- constraint store: per constraint [nA, nB, nC, (wire, coef) * (nA + nB + nC)] ---- */
  const store = new U32Vec(1 << 20);
  const storeStart = new U32Vec(1 << 16);
  const push3 = (src: Uint32Array, nA: number, nB: number, nC: number): void => {
    storeStart.push(store.length);
    const n = 2 * (nA + nB + nC);
    store.reserve(3 + n);
    const d = store.data;
    let at = store.length;
    d[at++] = nA;
    d[at++] = nB;
    d[at++] = nC;
    d.set(src.subarray(0, n), at);
    store.length = at + n;
  };

  /* ---- resolving one constraint (terms in `src` from `at`) ---- */
  const RA = new U32Vec();
  const RB = new U32Vec();
  const RC = new U32Vec();
  const RL = new U32Vec();
  const resolveLc = (src: Uint32Array, at: number, n: number, out: U32Vec): void => {
    for (let i = 0; i < n; i++) accAddResolved(src[at + 2 * i] as number, src[at + 2 * i + 1] as number);
    accTake(out);
  };
  /** The constant k when the resolved LC is k*ONE alone (ZERO when empty); -1 when it has a wire. */
  const constantOf = (lc: U32Vec): number => {
    if (lc.length === 0) return ZERO;
    if (lc.length === 2 && lc.data[0] === 0) return lc.data[1] as number;
    return -1;
  };
  /**
   * Classifies the constraint RA * RB = RC (terms over roots): LINEAR when A or B is constant, and
   * then RL holds L with L = 0 equivalent to the constraint; otherwise NONLINEAR.
   */
  const LINEAR = 1;
  const NONLINEAR = 2;
  const classify = (): number => {
    const ka = constantOf(RA);
    const kb = ka === ZERO ? -1 : constantOf(RB);
    if (ka === -1 && kb === -1) return NONLINEAR;
    // A*B - C = 0 with A or B constant: L = C - k*(the other) = 0 (both sides negated, same thing).
    const k = ka !== -1 ? ka : kb;
    const other = ka !== -1 ? RB : RA;
    const d = RC.data;
    for (let i = 0; i < RC.length; i += 2) accAdd(d[i] as number, d[i + 1] as number);
    if (k !== ZERO) {
      const nk = neg(k);
      const o = other.data;
      for (let i = 0; i < other.length; i += 2) accAdd(o[i] as number, mul(nk, o[i + 1] as number));
    }
    accTake(RL);
    return LINEAR;
  };
  /** Resolves a stored constraint through the substitutions into RA, RB, RC (and RL); see classify. */
  const resolveConstraint = (src: Uint32Array, at: number, nA: number, nB: number, nC: number): number => {
    resolveLc(src, at, nA, RA);
    resolveLc(src, at + 2 * nA, nB, RB);
    resolveLc(src, at + 2 * (nA + nB), nC, RC);
    return classify();
  };

  /**
   * With L = RL (over roots): eliminates one wire when L has at most two non-constant wires and one
   * of them is unprotected. Returns true when the constraint is now implied (eliminated, or 0 = 0).
   */
  let substituted = 0;
  /** Set during the worklist phase: told when `target` (a root) is substituted by `other` (0: a constant). */
  let onEliminate: ((target: number, other: number) => void) | undefined;
  const tryEliminate = (): boolean => {
    const d = RL.data;
    let k = ZERO;
    let n = 0;
    let w1 = 0;
    let c1 = ZERO;
    let w2 = 0;
    let c2 = ZERO;
    for (let i = 0; i < RL.length; i += 2) {
      const w = d[i] as number;
      const c = d[i + 1] as number;
      if (w === 0) k = c;
      else if (n === 0) {
        w1 = w;
        c1 = c;
        n = 1;
      } else if (n === 1) {
        w2 = w;
        c2 = c;
        n = 2;
      } else return false;
    }
    if (n === 0) return k === ZERO; // 0 = 0 is implied; 0 = k != 0 (unsatisfiable) is kept
    // target := the unprotected wire to eliminate (the later one of two unprotected wires)
    let target: number;
    let tc: number;
    let other = 0;
    let oc = ZERO;
    if (n === 1) {
      if (w1 <= lastProtected) return false;
      target = w1;
      tc = c1;
    } else {
      const u1 = w1 > lastProtected;
      const u2 = w2 > lastProtected;
      if (!u1 && !u2) return false;
      if (u1 && (!u2 || w1 > w2)) {
        target = w1;
        tc = c1;
        other = w2;
        oc = c2;
      } else {
        target = w2;
        tc = c2;
        other = w1;
        oc = c1;
      }
    }
    // tc*target + oc*other + k = 0  =>  target = (-oc/tc)*other + (-k/tc); other = 0 (ONE) when n = 1
    const minusInv = neg(inv(tc));
    if (n === 1) {
      parent[target] = 0;
      factor[target] = mul(k, minusInv);
      offset[target] = ZERO;
    } else {
      parent[target] = other;
      factor[target] = mul(oc, minusInv);
      offset[target] = mul(k, minusInv);
    }
    substituted++;
    if (onEliminate !== undefined) onEliminate(target, n === 1 ? 0 : other);
    return true;
  };

  /* ---- pass 1: stream the constraints; eliminate equalities, store the rest ---- */
  let before = { nonLinear: 0, linear: 0, terms: 0 };
  const scratch = new U32Vec(1024);
  {
    let buf = Buffer.alloc(Math.min(READ_CHUNK, Math.max(consSection.size, 16)));
    let bufStart = 0; // file offset of buf[0]
    let bufEnd = 0; // valid bytes in buf
    let pos = 0;
    const sectionEnd = consSection.pos + consSection.size;
    const refill = async (n: number): Promise<void> => {
      const keep = bufEnd - pos;
      if (n > buf.length) {
        const bigger = Buffer.alloc(Math.max(n, buf.length * 2));
        buf.copy(bigger, 0, pos, bufEnd);
        buf = bigger;
      } else {
        buf.copy(buf, 0, pos, bufEnd);
      }
      bufStart += pos;
      pos = 0;
      bufEnd = keep;
      const fileAt = bufStart + bufEnd;
      const toRead = Math.min(buf.length - bufEnd, sectionEnd - fileAt);
      if (toRead < n - keep) throw new Error(`${inputR1cs}: constraints section ends inside a constraint`);
      await readExactly(fin, buf, bufEnd, toRead, fileAt);
      bufEnd += toRead;
    };
    bufStart = consSection.pos;
    let nonLinear = 0;
    let linear = 0;
    let terms = 0;
    for (let ci = 0; ci < nConstraints; ci++) {
      let nA = 0;
      let nB = 0;
      let nC = 0;
      scratch.length = 0;
      for (let l = 0; l < 3; l++) {
        if (pos + 4 > bufEnd) await refill(4);
        const n = buf.readUInt32LE(pos);
        pos += 4;
        if (l === 0) nA = n;
        else if (l === 1) nB = n;
        else nC = n;
        if (pos + n * termBytes > bufEnd) await refill(n * termBytes);
        scratch.reserve(2 * n);
        const d = scratch.data;
        let k = scratch.length;
        for (let i = 0; i < n; i++) {
          const w = buf.readUInt32LE(pos);
          if (w >= nWires) throw new Error(`${inputR1cs}: constraint ${ci} uses wire ${w} >= nWires ${nWires}`);
          d[k++] = w;
          d[k++] = readCoef(buf, pos + 4);
          pos += termBytes;
        }
        scratch.length = k;
      }
      const d = scratch.data;
      terms += nA + nB + nC;
      const rawLinear = nA === 0 || nB === 0 || (nA === 1 && d[0] === 0) || (nB === 1 && d[2 * nA] === 0);
      if (rawLinear) linear++;
      else nonLinear++;
      if (ci % 2_000_000 === 1_999_999) log(`[simplify]   read ${(ci + 1).toLocaleString('en-US')} constraints, ${substituted.toLocaleString('en-US')} substituted (${elapsed()}, ${mem()})`);
      if (rawLinear && resolveConstraint(d, 0, nA, nB, nC) === LINEAR && tryEliminate()) continue;
      push3(d, nA, nB, nC);
    }
    before = { nonLinear, linear, terms };
  }
  const stored = storeStart.length;
  log(`[simplify] pass 1: ${substituted.toLocaleString('en-US')} wires substituted, ${stored.toLocaleString('en-US')} constraints kept (${store.length.toLocaleString('en-US')} words), ${coefs.length.toLocaleString('en-US')} coefficients (${elapsed()}, ${mem()})`);

  /*
   * ---- worklist: re-examine the kept constraints until nothing changes ----
   * Each unprotected root has a linked list of the stored constraints that mention a wire of its
   * class (occurrence entries: constraint id + next entry). When a root is substituted, its
   * constraints are queued again and its list is appended to the surviving root's list.
   */
  const removed = new Uint8Array(stored);
  const sd = () => store.data;
  let reexamined = 0;
  {
    const head = new Int32Array(nWires).fill(-1);
    const tail = new Int32Array(nWires).fill(-1);
    const occC = new U32Vec(1 << 16);
    const occNext = new U32Vec(1 << 16); // 0xffffffff: end of list
    const END = 0xffffffff;
    const d = sd();
    for (let i = 0; i < stored; i++) {
      const at = storeStart.data[i] as number;
      const n = (d[at] as number) + (d[at + 1] as number) + (d[at + 2] as number);
      for (let t = 0; t < n; t++) {
        const r = find(d[at + 3 + 2 * t] as number);
        if (r <= lastProtected) continue; // ONE and protected wires are never substituted
        const e = occC.length;
        occC.push(i);
        occNext.push(END);
        if (head[r] === -1) head[r] = e;
        else occNext.data[tail[r] as number] = e;
        tail[r] = e;
      }
    }
    // FIFO of constraint ids; each id is in it at most once, so `stored` slots suffice.
    const queue = new Uint32Array(Math.max(stored, 1));
    const queued = new Uint8Array(stored).fill(1);
    for (let i = 0; i < stored; i++) queue[i] = i;
    let qHead = 0;
    let qLen = stored;
    onEliminate = (target, other) => {
      const h = head[target] as number;
      if (h === -1) return;
      const next = occNext.data;
      const cons = occC.data;
      for (let e = h; e !== END; e = next[e] as number) {
        const c = cons[e] as number;
        if (queued[c] || removed[c]) continue;
        queued[c] = 1;
        queue[(qHead + qLen) % queue.length] = c;
        qLen++;
      }
      if (other > lastProtected) {
        if (head[other] === -1) head[other] = h;
        else next[tail[other] as number] = h;
        tail[other] = tail[target] as number;
      }
      head[target] = -1;
      tail[target] = -1;
    };
    const was = substituted;
    let trivial = 0;
    while (qLen > 0) {
      const i = queue[qHead] as number;
      qHead = (qHead + 1) % queue.length;
      qLen--;
      queued[i] = 0;
      if (removed[i]) continue;
      reexamined++;
      const at = storeStart.data[i] as number;
      if (resolveConstraint(d, at + 3, d[at] as number, d[at + 1] as number, d[at + 2] as number) === LINEAR) {
        const had = substituted;
        if (tryEliminate()) {
          removed[i] = 1;
          if (substituted === had) trivial++;
        }
      }
    }
    onEliminate = undefined;
    log(`[simplify] worklist: ${reexamined.toLocaleString('en-US')} constraints examined, ${(substituted - was).toLocaleString('en-US')} more wires substituted, ${trivial.toLocaleString('en-US')} constraints became 0 = 0 (${elapsed()}, ${mem()})`);
  }

  /* ---- the resolved store: every live constraint over roots; linear ones as A = B = 0, C = L ---- */
  const rs = new U32Vec(Math.max(1024, store.length));
  const rsStart = new U32Vec(Math.max(1024, stored));
  let rsRemoved = new Uint8Array(Math.max(1024, stored));
  const appendLc = (lc: U32Vec): void => {
    rs.reserve(lc.length);
    rs.data.set(lc.data.subarray(0, lc.length), rs.length);
    rs.length += lc.length;
  };
  /** Appends RA * RB = RC (NONLINEAR) or 0 * 0 = RL (LINEAR); returns its id. */
  const rsPush = (kind: number): number => {
    const id = rsStart.length;
    if (id === rsRemoved.length) {
      const next = new Uint8Array(id * 2);
      next.set(rsRemoved);
      rsRemoved = next;
    }
    rsStart.push(rs.length);
    rs.reserve(3);
    const linear = kind === LINEAR;
    rs.data[rs.length++] = linear ? 0 : RA.length / 2;
    rs.data[rs.length++] = linear ? 0 : RB.length / 2;
    rs.data[rs.length++] = linear ? RL.length / 2 : RC.length / 2;
    if (linear) appendLc(RL);
    else {
      appendLc(RA);
      appendLc(RB);
      appendLc(RC);
    }
    return id;
  };
  {
    const d = sd();
    for (let i = 0; i < stored; i++) {
      if (removed[i]) continue;
      const at = storeStart.data[i] as number;
      const kind = resolveConstraint(d, at + 3, d[at] as number, d[at + 1] as number, d[at + 2] as number);
      if (kind === LINEAR && RL.length === 0) continue; // 0 = 0
      rsPush(kind);
    }
    // the raw constraints are no longer needed
    store.data = new Uint32Array(0);
    store.length = 0;
    storeStart.data = new Uint32Array(0);
    storeStart.length = 0;
  }

  /*
   * ---- general linear substitution (optional): a linear constraint L = 0 with an unprotected wire
   * x that appears in at most `maxUses` other constraints (or any number when L has at most two
   * wires) is removed and x := -(L - lx*x)/lx is substituted into those constraints. Exact per-root
   * counts of live constraints and per-root occurrence lists (constraint versions are immutable: a
   * rewritten constraint is appended and the old version removed) find the users. ----
   */
  let linearSubstituted = 0;
  if (maxUses > 0) {
    const END = 0xffffffff;
    const cnt = new Uint32Array(nWires);
    const head = new Uint32Array(nWires).fill(END);
    const stamp = new Int32Array(nWires).fill(-1);
    let stampNo = 0;
    const occC = new U32Vec(1 << 20);
    const occNext = new U32Vec(1 << 20);
    const distinct = new U32Vec();
    /** The distinct unprotected wires of constraint `id`, into `distinct`. */
    const collectRoots = (id: number): void => {
      distinct.length = 0;
      stampNo++;
      const d = rs.data;
      const at = rsStart.data[id] as number;
      const n = (d[at] as number) + (d[at + 1] as number) + (d[at + 2] as number);
      for (let t = 0; t < n; t++) {
        const w = d[at + 3 + 2 * t] as number;
        if (w <= lastProtected || stamp[w] === stampNo) continue;
        stamp[w] = stampNo;
        distinct.push(w);
      }
    };
    const addOcc = (id: number): void => {
      collectRoots(id);
      for (let i = 0; i < distinct.length; i++) {
        const w = distinct.data[i] as number;
        cnt[w] = (cnt[w] as number) + 1;
        occC.push(id);
        occNext.push(head[w] as number);
        head[w] = occC.length - 1;
      }
    };
    const dropOcc = (id: number): void => {
      rsRemoved[id] = 1;
      collectRoots(id);
      for (let i = 0; i < distinct.length; i++) {
        const w = distinct.data[i] as number;
        cnt[w] = (cnt[w] as number) - 1;
      }
    };
    const queue = new U32Vec(1 << 16);
    const total = rsStart.length;
    for (let id = 0; id < total; id++) {
      addOcc(id);
      const at = rsStart.data[id] as number;
      if (rs.data[at] === 0 && rs.data[at + 1] === 0) queue.push(id);
    }
    const DEF = new U32Vec();
    const users = new U32Vec();
    let x = 0;
    /** LC at rs[at..] (n terms) with x replaced by its definition DEF, into `out`. */
    const substituteLc = (at: number, n: number, out: U32Vec): void => {
      const d = rs.data;
      const def = DEF.data;
      for (let t = 0; t < n; t++) {
        const w = d[at + 2 * t] as number;
        const c = d[at + 2 * t + 1] as number;
        if (w !== x) accAdd(w, c);
        else for (let j = 0; j < DEF.length; j += 2) accAdd(def[j] as number, mul(c, def[j + 1] as number));
      }
      accTake(out);
    };
    for (let qi = 0; qi < queue.length; qi++) {
      const L = queue.data[qi] as number;
      if (rsRemoved[L]) continue;
      const d = rs.data;
      const at = rsStart.data[L] as number;
      const nL = d[at + 2] as number;
      // x := the unprotected wire of L used by the fewest constraints (the later one on ties)
      let best = Infinity;
      let xc = ZERO;
      let nonConst = 0;
      x = -1;
      for (let t = 0; t < nL; t++) {
        const w = d[at + 3 + 2 * t] as number;
        if (w === 0) continue;
        nonConst++;
        if (w <= lastProtected) continue;
        const c = cnt[w] as number;
        if (c < best || (c === best && w > x)) {
          best = c;
          x = w;
          xc = d[at + 4 + 2 * t] as number;
        }
      }
      if (x < 0) continue;
      const nUsers = best - 1;
      if (!(nUsers === 0 || nonConst <= 2 || (nUsers <= maxUses && nonConst <= maxTerms))) continue;
      // x = sum over the other terms of (-l/lx) * w
      const minusInv = neg(inv(xc));
      DEF.length = 0;
      for (let t = 0; t < nL; t++) {
        const w = d[at + 3 + 2 * t] as number;
        if (w === x) continue;
        DEF.push(w);
        DEF.push(mul(d[at + 4 + 2 * t] as number, minusInv));
      }
      users.length = 0;
      for (let e = head[x] as number; e !== END; e = occNext.data[e] as number) {
        const u = occC.data[e] as number;
        if (u !== L && !rsRemoved[u]) users.push(u);
      }
      if (users.length !== nUsers) throw new Error(`internal error: wire ${x} has ${users.length} users, counted ${nUsers}`);
      dropOcc(L);
      for (let k = 0; k < users.length; k++) {
        const u = users.data[k] as number;
        dropOcc(u);
        const ua = rsStart.data[u] as number;
        const nA = rs.data[ua] as number;
        const nB = rs.data[ua + 1] as number;
        const nC = rs.data[ua + 2] as number;
        substituteLc(ua + 3, nA, RA);
        substituteLc(ua + 3 + 2 * nA, nB, RB);
        substituteLc(ua + 3 + 2 * (nA + nB), nC, RC);
        const kind = classify();
        if (kind === LINEAR && RL.length === 0) continue; // became 0 = 0
        const id = rsPush(kind);
        addOcc(id);
        if (kind === LINEAR) queue.push(id);
      }
      linearSubstituted++;
    }
    log(`[simplify] linear substitution (max ${maxUses} uses, ${maxTerms} terms): ${linearSubstituted.toLocaleString('en-US')} wires substituted (${elapsed()}, ${mem()})`);
  }

  /* ---- mark the wires still used; count what will be written ---- */
  const newId = new Int32Array(nWires).fill(-1);
  for (let w = 0; w <= lastProtected && w < nWires; w++) newId[w] = 0;
  const after = { nonLinear: 0, linear: 0, terms: 0 };
  const nIds = rsStart.length;
  for (let id = 0; id < nIds; id++) {
    if (rsRemoved[id]) continue;
    const d = rs.data;
    const at = rsStart.data[id] as number;
    const n = (d[at] as number) + (d[at + 1] as number) + (d[at + 2] as number);
    if (d[at] === 0) after.linear++;
    else after.nonLinear++;
    after.terms += n;
    for (let t = 0; t < n; t++) newId[d[at + 3 + 2 * t] as number] = 0;
  }
  let nKept = 0;
  for (let w = 0; w < nWires; w++) if (newId[w] === 0) newId[w] = nKept++;
  const newToOld = new Uint32Array(nKept);
  for (let w = 0; w < nWires; w++) {
    const id = newId[w] as number;
    if (id >= 0) newToOld[id] = w;
  }
  const afterConstraints = after.nonLinear + after.linear;
  log(`[simplify] result: ${afterConstraints.toLocaleString('en-US')} constraints (${after.nonLinear.toLocaleString('en-US')} non-linear + ${after.linear.toLocaleString('en-US')} linear), ${nKept.toLocaleString('en-US')} wires, ${after.terms.toLocaleString('en-US')} terms (${elapsed()}, ${mem()})`);

  /* ---- write the .r1cs ---- */
  const labels = await readSectionBytes(fin, mapSection);
  const fout = await open(outputR1cs, 'w');
  try {
    const w = new BinWriter(fout);
    await w.fileHeader(R1CS_MAGIC, 1, 3);
    await w.startSection(SECTION_HEADER);
    await w.ensure(4 + n8 + 4 * 4 + 8 + 4);
    w.u32(n8);
    w.bytes(hdr.primeBytes);
    w.u32(nKept);
    w.u32(hdr.nPubOut);
    w.u32(hdr.nPubIn);
    w.u32(hdr.nPrvIn);
    w.u64(hdr.nLabels);
    w.u32(afterConstraints);
    await w.endSection();

    await w.startSection(SECTION_CONSTRAINTS);
    let sortKeys = new Float64Array(1024);
    /** Writes the LC of n terms at rs.data[at..], renumbered and sorted by new wire id (circom's order). */
    const writeLc = async (at: number, n: number): Promise<void> => {
      if (!w.has(4 + n * termBytes)) await w.ensure(4 + n * termBytes);
      w.u32(n);
      const x = rs.data;
      // key = newId * 2^20 + index
      if (n >= SORT_INDEX_LIMIT) throw new Error(`a linear combination with ${n} terms is too long`);
      if (sortKeys.length < n) sortKeys = new Float64Array(n * 2);
      for (let i = 0; i < n; i++) sortKeys[i] = (newId[x[at + 2 * i] as number] as number) * SORT_INDEX_LIMIT + i;
      const keys = sortKeys.subarray(0, n).sort();
      for (let j = 0; j < n; j++) {
        const key = keys[j] as number;
        const i = key % SORT_INDEX_LIMIT;
        w.u32((key - i) / SORT_INDEX_LIMIT);
        const c = x[at + 2 * i + 1] as number;
        w.bytes(coefBytes, c * n8, c * n8 + n8);
      }
    };
    let written = 0;
    for (let id = 0; id < nIds; id++) {
      if (rsRemoved[id]) continue;
      const at = rsStart.data[id] as number;
      const nA = rs.data[at] as number;
      const nB = rs.data[at + 1] as number;
      const nC = rs.data[at + 2] as number;
      await writeLc(at + 3, nA);
      await writeLc(at + 3 + 2 * nA, nB);
      await writeLc(at + 3 + 2 * (nA + nB), nC);
      written++;
    }
    if (written !== afterConstraints) throw new Error(`internal error: wrote ${written} constraints, counted ${afterConstraints}`);
    await w.endSection();

    await w.startSection(SECTION_WIRE2LABEL);
    for (let i = 0; i < nKept; i++) {
      if (!w.has(8)) await w.ensure(8);
      const old = newToOld[i] as number;
      w.bytes(labels, old * 8, old * 8 + 8);
    }
    await w.endSection();
  } finally {
    await fout.close();
  }

  /* ---- the wire map ---- */
  const fmap = await open(mapPath, 'w');
  try {
    const w = new BinWriter(fmap);
    await w.ensure(16);
    w.bytes(Buffer.from(MAP_MAGIC, 'latin1'));
    w.u32(nWires);
    w.u32(nKept);
    await w.bigBytes(new Uint8Array(newToOld.buffer, newToOld.byteOffset, newToOld.byteLength));
    await w.flush();
  } finally {
    await fmap.close();
  }

  const seconds = (performance.now() - t0) / 1000;
  log(`[simplify] wrote ${outputR1cs} and ${mapPath} in ${seconds.toFixed(1)} s (${mem()})`);
  return {
    r1csPath: outputR1cs,
    mapPath,
    before: { constraints: nConstraints, wires: nWires, ...before },
    after: { constraints: afterConstraints, wires: nKept, ...after },
    seconds,
    substituted: substituted + linearSubstituted,
    reexamined,
    linearSubstituted,
    coefficients: coefs.length,
  };
}

/* ------------------------------------------------------------------------------------------------
 * Witness reduction.
 * ---------------------------------------------------------------------------------------------- */

/** Reads a map written by simplifyR1cs: the original wire count and the kept original wire ids. */
export async function readWireMap(mapPath: string): Promise<{ originalWires: number; kept: Uint32Array }> {
  const fh = await open(mapPath, 'r');
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(16);
    await readExactly(fh, head, 0, 16, 0);
    if (head.toString('latin1', 0, 8) !== MAP_MAGIC) throw new Error(`${mapPath}: not a wire map written by simplifyR1cs`);
    const originalWires = head.readUInt32LE(8);
    const n = head.readUInt32LE(12);
    if (size !== 16 + 4 * n) throw new Error(`${mapPath}: ${size} bytes for ${n} wires`);
    const bytes = Buffer.alloc(4 * n);
    await readExactly(fh, bytes, 0, 4 * n, 16);
    const kept = new Uint32Array(n);
    for (let i = 0; i < n; i++) kept[i] = bytes.readUInt32LE(4 * i);
    return { originalWires, kept };
  } finally {
    await fh.close();
  }
}

/**
 * Cuts a full witness (.wtns of the circuit simplifyR1cs was given, e.g. from the --O0 wasm) down
 * to the wires the simplified R1CS kept, in its order. Streams: memory is one chunk plus the map.
 */
export async function reduceWitness(fullWtns: string, mapPath: string, outWtns: string): Promise<void> {
  const { originalWires, kept } = await readWireMap(mapPath);
  for (let i = 1; i < kept.length; i++) {
    if ((kept[i] as number) <= (kept[i - 1] as number)) throw new Error(`${mapPath}: kept wire ids are not ascending`);
  }
  const fin = await open(fullWtns, 'r');
  try {
    const { sections } = await readSections(fin, WTNS_MAGIC, fullWtns);
    const header = await readSectionBytes(fin, uniqueSection(sections, 1, fullWtns));
    const n8 = header.readUInt32LE(0);
    const primeBytes = header.subarray(4, 4 + n8);
    const nWitness = header.readUInt32LE(4 + n8);
    if (nWitness !== originalWires) throw new Error(`${fullWtns} has ${nWitness} values but ${mapPath} is for a circuit with ${originalWires} wires`);
    const values = uniqueSection(sections, 2, fullWtns);
    if (values.size !== nWitness * n8) throw new Error(`${fullWtns}: values section has ${values.size} bytes for ${nWitness} values`);

    const fout = await open(outWtns, 'w');
    try {
      const w = new BinWriter(fout);
      await w.fileHeader(WTNS_MAGIC, 2, 2);
      await w.startSection(1);
      await w.ensure(8 + n8);
      w.u32(n8);
      w.bytes(primeBytes);
      w.u32(kept.length);
      await w.endSection();
      await w.startSection(2);
      // kept is ascending: read the values in windows and copy the selected ones.
      const per = Math.max(1, Math.floor(READ_CHUNK / n8));
      const buf = Buffer.alloc(Math.min(per, nWitness) * n8);
      let k = 0;
      for (let first = 0; first < nWitness && k < kept.length; first += per) {
        const last = Math.min(nWitness, first + per);
        if ((kept[k] as number) >= last) continue;
        await readExactly(fin, buf, 0, (last - first) * n8, values.pos + first * n8);
        while (k < kept.length && (kept[k] as number) < last) {
          const at = ((kept[k] as number) - first) * n8;
          if (!w.has(n8)) await w.ensure(n8);
          w.bytes(buf, at, at + n8);
          k++;
        }
      }
      await w.endSection();
    } finally {
      await fout.close();
    }
  } finally {
    await fin.close();
  }
}
