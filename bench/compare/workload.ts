/**
 * The synthetic healthcare workload the compare harness runs against all three systems: N
 * operations drawn from a mix of record uploads, access requests, record updates and insurance
 * claims over P patients, two reading institutions (a hospital and a laboratory) and an insurer.
 * Deterministic for a seed: the same operations, actors and payload hashes every run.
 *
 * Consents are set up before the timed run (each patient grants READ to one reader and CLAIM to
 * the insurer), like the registrations. Every upload/update carries a payload of `fileKb` KiB of
 * synthetic record bytes encrypted with AES-256-GCM under a per-patient key; the SHA-256 of the
 * ciphertext is what goes on chain (L1/sidechain: the bytes32; rollup: its top 248 bits as the
 * index hash). The ciphertext itself is not stored anywhere (the bench measures the chains, not
 * IPFS); the encryption happens while the workload is generated, before any clock starts.
 */
import { gcm } from '@noble/ciphers/aes.js';
import { sha256 } from '@noble/hashes/sha2.js';

export const OP_KINDS = ['upload', 'update', 'access', 'claim'] as const;
export type OpKind = (typeof OP_KINDS)[number];

export type Mix = Readonly<Record<OpKind, number>>;

export const DEFAULT_MIX = 'upload=2,access=3,update=2,claim=1';

/** Roles of the institutions the workload uses (Gateway roles: 1 hospital, 2 laboratory, 3 insurer). */
export const INSTITUTIONS = [
  { name: 'hospital', role: 1 },
  { name: 'laboratory', role: 2 },
  { name: 'insurer', role: 3 },
] as const;
export const INSURER = 2;

export interface Operation {
  readonly index: number;
  readonly kind: OpKind;
  /** Patient index (0-based) the operation concerns. */
  readonly patient: number;
  /** Institution index (0-based) for access and claim. */
  readonly institution?: number;
  /** bytes32 hex: the ciphertext hash (upload, update), the accessed index hash (access), the claim's record reference (claim). */
  readonly hash: string;
  /** Bytes of ciphertext behind the hash (upload, update). */
  readonly payloadBytes?: number;
}

export interface Workload {
  readonly seed: number;
  readonly mix: Mix;
  readonly patients: number;
  readonly ops: readonly Operation[];
  /** Each patient's reading institution (0 hospital or 1 laboratory). */
  readonly readerOf: readonly number[];
  /** Milliseconds spent encrypting and hashing the payloads (client side, not part of any latency). */
  readonly encryptMs: number;
}

export function parseMix(spec: string): Mix {
  const mix: Record<OpKind, number> = { upload: 0, update: 0, access: 0, claim: 0 };
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([a-z]+)=(\d+(?:\.\d+)?)$/.exec(part);
    if (!m || !(OP_KINDS as readonly string[]).includes(m[1]!)) throw new Error(`--mix: "${part}" is not <${OP_KINDS.join('|')}>=<weight>`);
    mix[m[1] as OpKind] = Number(m[2]);
  }
  if (mix.upload <= 0) throw new Error('--mix needs upload > 0 (updates need an uploaded record first)');
  return mix;
}

/** Exact counts per kind for n operations (largest remainder), so a run has the mix, not a sample of it. */
export function countsFor(mix: Mix, n: number): Record<OpKind, number> {
  const total = OP_KINDS.reduce((a, k) => a + mix[k], 0);
  const raw = OP_KINDS.map((k) => ({ k, exact: (mix[k] / total) * n }));
  const counts = Object.fromEntries(raw.map((r) => [r.k, Math.floor(r.exact)])) as Record<OpKind, number>;
  let left = n - OP_KINDS.reduce((a, k) => a + counts[k], 0);
  for (const r of [...raw].sort((a, b) => b.exact - Math.floor(b.exact) - (a.exact - Math.floor(a.exact)))) {
    if (left-- <= 0) break;
    counts[r.k]++;
  }
  if (counts.upload === 0) counts.upload = 1;
  return counts;
}

/** mulberry32: small, fast, deterministic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (b: Uint8Array): string => `0x${Buffer.from(b).toString('hex')}`;
const u32 = (n: number): Uint8Array => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);

/** Deterministic bytes: SHA-256 in counter mode over (label, seed). */
export function seededBytes(label: string, seed: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  const prefix = new TextEncoder().encode(label);
  for (let i = 0, off = 0; off < length; i++, off += 32) {
    const block = sha256(new Uint8Array([...prefix, ...u32(seed), ...u32(i)]));
    out.set(block.subarray(0, Math.min(32, length - off)), off);
  }
  return out;
}

/** The payload hash of an encrypted record: AES-256-GCM over `fileKb` KiB, SHA-256 of nonce || ciphertext. */
export function encryptedPayloadHash(seed: number, patient: number, version: number, fileKb: number): { hash: string; bytes: number } {
  const key = seededBytes(`key/${patient}`, seed, 32);
  const nonce = seededBytes(`nonce/${patient}/${version}`, seed, 12);
  const plain = seededBytes(`record/${patient}/${version}`, seed, fileKb * 1024);
  const ct = gcm(key, nonce).encrypt(plain);
  const all = new Uint8Array(nonce.length + ct.length);
  all.set(nonce, 0);
  all.set(ct, nonce.length);
  return { hash: hex(sha256(all)), bytes: all.length };
}

export interface WorkloadOptions {
  ops: number;
  mix: Mix;
  seed: number;
  fileKb: number;
  /** Patients; default: one per upload (an upload is a patient's first record). */
  patients?: number;
}

export function generateWorkload(o: WorkloadOptions): Workload {
  const rand = prng(o.seed);
  const counts = countsFor(o.mix, o.ops);
  const patients = Math.max(o.patients ?? counts.upload, 1);
  if (counts.upload > patients) throw new Error(`${counts.upload} uploads need at least as many patients (an upload is a patient's first record), got --patients ${patients}`);
  // The kinds, shuffled (Fisher-Yates), then fixed up so every update follows an upload.
  const kinds: OpKind[] = OP_KINDS.flatMap((k) => Array.from({ length: counts[k] }, () => k));
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
  }
  const firstUpload = kinds.indexOf('upload');
  const firstUpdate = kinds.indexOf('update');
  if (firstUpdate >= 0 && firstUpload > firstUpdate) [kinds[firstUpload], kinds[firstUpdate]] = ['update', 'upload'];

  const readerOf = Array.from({ length: patients }, (_, p) => p % 2);
  const versions = new Array<number>(patients).fill(0);
  const latest = new Array<string>(patients).fill(hex(new Uint8Array(32)));
  let nextUploader = 0;
  const pick = (n: number) => Math.floor(rand() * n);
  const t0 = performance.now();
  const ops: Operation[] = kinds.map((kind, index) => {
    if (kind === 'upload' || kind === 'update') {
      const withRecord = versions.flatMap((v, p) => (v > 0 ? [p] : []));
      const patient = kind === 'upload' ? nextUploader++ : withRecord[pick(withRecord.length)]!;
      const payload = encryptedPayloadHash(o.seed, patient, ++versions[patient]!, o.fileKb);
      latest[patient] = payload.hash;
      return { index, kind, patient, hash: payload.hash, payloadBytes: payload.bytes };
    }
    const patient = pick(patients);
    if (kind === 'access') return { index, kind, patient, institution: readerOf[patient]!, hash: latest[patient]! };
    return { index, kind, patient, institution: INSURER, hash: hex(seededBytes(`claim/${index}`, o.seed, 32)) };
  });
  return { seed: o.seed, mix: o.mix, patients, ops, readerOf, encryptMs: performance.now() - t0 };
}

/** The actor of an operation: the patient for its own record, the institution for access and claims. */
export function actorOf(op: Operation): { kind: 'patient' | 'institution'; index: number } {
  return op.kind === 'upload' || op.kind === 'update' ? { kind: 'patient', index: op.patient } : { kind: 'institution', index: op.institution! };
}
