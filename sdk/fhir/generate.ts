/**
 * Deterministic synthetic data in the paper's CSV layout (Patient_ID, Age, Gender, Condition,
 * Procedure, Cost, Length_of_Stay, Readmission, Outcome). Same options, same text, on every machine:
 * the PRNG is seeded and nothing reads the clock.
 *
 * Distributions are per case profile (a condition with its usual procedure): ages within the
 * profile's range (overall 18–95, triangular around a typical age), sex where the condition implies
 * one, stays 1–30 days around a typical length, costs that grow with the stay, readmission odds that
 * grow with age and stay, and outcomes that differ between acute and chronic conditions.
 */
import { DATASET_COLUMNS } from './csv.js';
import { formatCsv } from './csvText.js';

export interface SyntheticCsvOptions {
  /** Number of data rows (1..1,000,000). */
  readonly rows: number;
  /** Any number or string; equal seeds give identical output. */
  readonly seed: number | string;
  /** Line end; default '\n'. */
  readonly eol?: '\n' | '\r\n';
  /** Patient_ID of the first row (then +1 per row); default 1. */
  readonly firstPatientId?: number;
}

export interface SyntheticRow {
  readonly patientId: string;
  readonly age: number;
  readonly gender: 'Male' | 'Female';
  readonly condition: string;
  readonly procedure: string;
  readonly cost: number;
  readonly lengthOfStay: number;
  readonly readmission: boolean;
  readonly outcome: 'Recovered' | 'Stable' | 'Deceased';
}

type Tri = readonly [min: number, mode: number, max: number];
interface CaseProfile {
  readonly condition: string;
  readonly procedure: string;
  readonly weight: number;
  readonly sex?: 'Male' | 'Female';
  readonly age: Tri;
  readonly stay: Tri;
  readonly cost: Tri;
  readonly readmit: number;
  /** Share of survivors who leave "Recovered" rather than "Stable". */
  readonly recovers: number;
  readonly mortality: number;
}

export const CASE_PROFILES: readonly CaseProfile[] = [
  { condition: 'Heart Disease', procedure: 'Angioplasty', weight: 10, age: [40, 66, 95], stay: [2, 5, 12], cost: [12000, 22000, 45000], readmit: 0.2, recovers: 0.35, mortality: 0.01 },
  { condition: 'Heart Attack', procedure: 'Cardiac Catheterization', weight: 6, age: [35, 67, 95], stay: [3, 6, 16], cost: [18000, 32000, 70000], readmit: 0.24, recovers: 0.4, mortality: 0.05 },
  { condition: 'Diabetes', procedure: 'Insulin Therapy', weight: 12, age: [18, 58, 92], stay: [1, 2, 7], cost: [1200, 3500, 9000], readmit: 0.16, recovers: 0.2, mortality: 0.002 },
  { condition: 'Hypertension', procedure: 'Medication and Counseling', weight: 11, age: [25, 62, 95], stay: [1, 1, 4], cost: [400, 1200, 3500], readmit: 0.08, recovers: 0.25, mortality: 0.001 },
  { condition: 'Stroke', procedure: 'CT Scan and Medication', weight: 6, age: [40, 73, 95], stay: [3, 9, 30], cost: [10000, 24000, 60000], readmit: 0.2, recovers: 0.3, mortality: 0.08 },
  { condition: 'Cancer', procedure: 'Surgery and Chemotherapy', weight: 6, age: [25, 64, 92], stay: [5, 12, 30], cost: [25000, 48000, 120000], readmit: 0.3, recovers: 0.3, mortality: 0.06 },
  { condition: 'Prostate Cancer', procedure: 'Radiation Therapy', weight: 3, sex: 'Male', age: [48, 69, 92], stay: [2, 6, 20], cost: [15000, 28000, 60000], readmit: 0.18, recovers: 0.4, mortality: 0.02 },
  { condition: 'Appendicitis', procedure: 'Appendectomy', weight: 6, age: [18, 29, 75], stay: [1, 2, 6], cost: [8000, 13000, 24000], readmit: 0.05, recovers: 0.95, mortality: 0.001 },
  { condition: 'Fractured Arm', procedure: 'X-Ray and Splint', weight: 5, age: [18, 35, 92], stay: [1, 1, 3], cost: [800, 2200, 6000], readmit: 0.03, recovers: 0.9, mortality: 0 },
  { condition: 'Fractured Leg', procedure: 'Surgery', weight: 4, age: [18, 55, 95], stay: [2, 5, 14], cost: [9000, 18000, 40000], readmit: 0.09, recovers: 0.75, mortality: 0.005 },
  { condition: 'Respiratory Infection', procedure: 'Antibiotics and Supportive Care', weight: 10, age: [18, 52, 95], stay: [1, 3, 10], cost: [900, 3000, 9000], readmit: 0.1, recovers: 0.85, mortality: 0.01 },
  { condition: 'Pneumonia', procedure: 'Antibiotics and Oxygen Therapy', weight: 4, age: [18, 70, 95], stay: [2, 5, 15], cost: [4000, 9000, 25000], readmit: 0.17, recovers: 0.75, mortality: 0.04 },
  { condition: 'Kidney Stones', procedure: 'Lithotripsy', weight: 5, age: [22, 45, 80], stay: [1, 2, 4], cost: [5000, 9000, 16000], readmit: 0.07, recovers: 0.92, mortality: 0 },
  { condition: 'Allergic Reaction', procedure: 'Epinephrine Injection', weight: 4, age: [18, 30, 85], stay: [1, 1, 2], cost: [300, 900, 2500], readmit: 0.03, recovers: 0.95, mortality: 0.001 },
  { condition: 'Osteoarthritis', procedure: 'Physical Therapy', weight: 5, age: [45, 67, 95], stay: [1, 2, 5], cost: [900, 2500, 6000], readmit: 0.05, recovers: 0.3, mortality: 0 },
  { condition: 'Osteoarthritis', procedure: 'Knee Replacement', weight: 4, age: [50, 68, 90], stay: [2, 3, 7], cost: [18000, 28000, 45000], readmit: 0.08, recovers: 0.7, mortality: 0.002 },
  { condition: 'Childbirth', procedure: 'Cesarean Section', weight: 5, sex: 'Female', age: [18, 30, 45], stay: [2, 3, 6], cost: [6000, 11000, 22000], readmit: 0.04, recovers: 0.95, mortality: 0 },
];

const MIN_AGE = 18;
const MAX_AGE = 95;
const MAX_STAY = 30;

/** CSV text with the paper's header and `rows` data rows. */
export function generateSyntheticCsv(opts: SyntheticCsvOptions): string {
  const rows = generateSyntheticRows(opts).map((r) => [
    r.patientId, String(r.age), r.gender, r.condition, r.procedure, r.cost.toFixed(2), String(r.lengthOfStay),
    r.readmission ? 'Yes' : 'No', r.outcome,
  ]);
  return formatCsv([[...DATASET_COLUMNS], ...rows], opts.eol ?? '\n');
}

export function generateSyntheticRows({ rows, seed, firstPatientId = 1 }: SyntheticCsvOptions): SyntheticRow[] {
  if (!Number.isInteger(rows) || rows < 1 || rows > 1_000_000) throw new RangeError(`rows must be an integer in 1..1000000, got ${rows}`);
  if (!Number.isSafeInteger(firstPatientId) || firstPatientId < 0) throw new RangeError(`firstPatientId must be a non-negative integer, got ${firstPatientId}`);
  const rnd = prng(seed);
  const total = CASE_PROFILES.reduce((s, p) => s + p.weight, 0);
  const out: SyntheticRow[] = [];
  for (let i = 0; i < rows; i++) {
    let pick = rnd() * total;
    const p = CASE_PROFILES.find((c) => (pick -= c.weight) < 0) ?? CASE_PROFILES[CASE_PROFILES.length - 1]!;
    const age = clamp(Math.round(triangular(rnd, p.age)), MIN_AGE, MAX_AGE);
    // Older patients stay a little longer.
    const stay = clamp(Math.round(triangular(rnd, p.stay) * (1 + Math.max(0, age - 65) / 100)), 1, MAX_STAY);
    const perDay = (p.cost[1] / Math.max(1, p.stay[1])) * 0.35;
    const cost = Math.max(p.cost[0] * 0.8, triangular(rnd, p.cost) + (stay - p.stay[1]) * perDay);
    const readmitP = Math.min(0.9, p.readmit * (1 + Math.max(0, age - 50) / 60) * (1 + Math.max(0, stay - p.stay[1]) / 20));
    const readmission = rnd() < readmitP;
    const mortalityP = p.mortality * (1 + Math.max(0, age - 60) / 20);
    const outcome = rnd() < mortalityP ? 'Deceased' : rnd() < p.recovers * (readmission ? 0.6 : 1) ? 'Recovered' : 'Stable';
    out.push({
      patientId: String(firstPatientId + i),
      age,
      gender: p.sex ?? (rnd() < 0.5 ? 'Male' : 'Female'),
      condition: p.condition,
      procedure: p.procedure,
      cost: Math.round(cost * 100) / 100,
      lengthOfStay: stay,
      readmission,
      outcome,
    });
  }
  return out;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

function triangular(rnd: () => number, [min, mode, max]: Tri): number {
  const u = rnd();
  const c = (mode - min) / (max - min || 1);
  return u < c ? min + Math.sqrt(u * (max - min) * (mode - min)) : max - Math.sqrt((1 - u) * (max - min) * (max - mode));
}

/** mulberry32 seeded from the seed (FNV-1a for strings): small, fast, and plenty for test data. */
export function prng(seed: number | string): () => number {
  let s: number;
  if (typeof seed === 'string') {
    s = 0x811c9dc5;
    for (let i = 0; i < seed.length; i++) s = Math.imul(s ^ seed.charCodeAt(i), 0x01000193);
  } else {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be finite, got ${seed}`);
    s = Math.floor(seed) ^ Math.floor(seed / 2 ** 32);
  }
  s >>>= 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
