/**
 * The pure parts of the compare harness: latency summaries, cost, ratios against the L1-only
 * baseline, the paper's claims, CSV and the markdown summary. No chains, no I/O.
 */

export type SystemKey = 'l1' | 'sidechain' | 'rollup';

export const SYSTEM_LABELS: Record<SystemKey, string> = {
  l1: 'L1-only (BaselineRegistry on L1)',
  sidechain: 'non-ZK sidechain + L1 anchors',
  rollup: 'ours: zk-rollup',
};

export const SYSTEM_SHORT: Record<SystemKey, string> = { l1: 'L1-only', sidechain: 'sidechain', rollup: 'zk-rollup' };

export interface Summary {
  n: number;
  p50: number;
  p90: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of an ascending array (p in 0..100); NaN for an empty array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  if (p <= 0) return sorted[0]!;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.length ? s.reduce((a, b) => a + b, 0) / s.length : Number.NaN;
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), max: s.length ? s[s.length - 1]! : Number.NaN, mean };
}

/** USD of `gas` at `gasGwei` per gas and `ethUsd` per ether. */
export function gasToUsd(gas: number, gasGwei: number, ethUsd: number): number {
  return gas * gasGwei * 1e-9 * ethUsd;
}

/** Relative change of `value` against `baseline`, in percent (negative = lower). */
export function changePct(value: number, baseline: number): number {
  return ((value - baseline) / baseline) * 100;
}

/** One operation as a system saw it: times in ms from the common run start. */
export interface OpTiming {
  readonly op: number;
  readonly kind: string;
  readonly sentMs: number;
  readonly softMs?: number | undefined;
  readonly finalMs?: number | undefined;
  /** L1 gas attributed to this operation (its own tx, or its share of an anchor / batch). */
  readonly l1Gas?: number | undefined;
  /** Gas on the sidechain (the sidechain system only). */
  readonly sideGas?: number | undefined;
  readonly error?: string | undefined;
}

export interface SystemResult {
  readonly system: SystemKey;
  readonly ops: number;
  readonly failed: number;
  /** send -> soft receipt, ms. */
  readonly soft: Summary;
  /** send -> L1 finality, ms. */
  readonly final: Summary;
  /** Operations finalized on L1 per second, run start -> last L1 finality. */
  readonly finalOpsPerSec: number;
  /** Operations soft-confirmed per second, run start -> last soft receipt. */
  readonly softOpsPerSec: number;
  readonly l1GasPerOp: number;
  readonly usdPerOp: number;
  readonly sideGasPerOp?: number | undefined;
  /** L1 transactions this system sent for the workload (ops, anchors or batches). */
  readonly l1Txs: number;
  readonly notes: string[];
}

export interface Prices {
  gasGwei: number;
  ethUsd: number;
}

export function systemResult(system: SystemKey, timings: readonly OpTiming[], prices: Prices, l1Txs: number, notes: string[] = []): SystemResult {
  const ok = timings.filter((t) => !t.error && t.softMs !== undefined && t.finalMs !== undefined);
  const soft = summarize(ok.map((t) => t.softMs! - t.sentMs));
  const final = summarize(ok.map((t) => t.finalMs! - t.sentMs));
  const lastFinal = Math.max(...ok.map((t) => t.finalMs!));
  const lastSoft = Math.max(...ok.map((t) => t.softMs!));
  const gas = ok.map((t) => t.l1Gas ?? 0);
  const l1GasPerOp = gas.length ? gas.reduce((a, b) => a + b, 0) / gas.length : Number.NaN;
  const side = ok.filter((t) => t.sideGas !== undefined).map((t) => t.sideGas!);
  return {
    system,
    ops: timings.length,
    failed: timings.length - ok.length,
    soft,
    final,
    finalOpsPerSec: ok.length ? ok.length / (lastFinal / 1000) : 0,
    softOpsPerSec: ok.length ? ok.length / (lastSoft / 1000) : 0,
    l1GasPerOp,
    usdPerOp: gasToUsd(l1GasPerOp, prices.gasGwei, prices.ethUsd),
    ...(side.length ? { sideGasPerOp: side.reduce((a, b) => a + b, 0) / side.length } : {}),
    l1Txs,
    notes,
  };
}

export interface Ratios {
  system: SystemKey;
  softLatencyChangePct: number;
  finalLatencyChangePct: number;
  costChangePct: number;
  finalThroughputRatio: number;
}

/** Changes against the L1-only system, on the p50 latencies and the mean L1 gas per operation. */
export function ratiosAgainst(baseline: SystemResult, r: SystemResult): Ratios {
  return {
    system: r.system,
    softLatencyChangePct: changePct(r.soft.p50, baseline.soft.p50),
    finalLatencyChangePct: changePct(r.final.p50, baseline.final.p50),
    costChangePct: changePct(r.l1GasPerOp, baseline.l1GasPerOp),
    finalThroughputRatio: r.finalOpsPerSec / baseline.finalOpsPerSec,
  };
}

export interface ClaimCheck {
  claim: string;
  measured: string;
  holds: boolean;
}

/**
 * The paper's claims for our system against the L1-only baseline: latency -57 % (checked on the
 * soft receipt and, separately, on L1 finality), cost -96 %, under $0.10 per transaction.
 */
export function checkClaims(baseline: SystemResult, ours: SystemResult): ClaimCheck[] {
  const r = ratiosAgainst(baseline, ours);
  const pct = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(1)} %`;
  return [
    { claim: 'latency -57 % vs L1-only (soft receipt, p50)', measured: pct(r.softLatencyChangePct), holds: r.softLatencyChangePct <= -57 },
    { claim: 'latency -57 % vs L1-only (L1 finality, p50)', measured: pct(r.finalLatencyChangePct), holds: r.finalLatencyChangePct <= -57 },
    { claim: 'cost -96 % vs L1-only (L1 gas per operation)', measured: pct(r.costChangePct), holds: r.costChangePct <= -96 },
    { claim: 'cost < $0.10 per transaction', measured: `$${ours.usdPerOp.toFixed(4)}`, holds: ours.usdPerOp < 0.1 },
  ];
}

/** RFC 4180 field: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(v: unknown): string {
  const s = v === undefined || v === null ? '' : typeof v === 'number' && !Number.isFinite(v) ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header, ...rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/** One CSV row per system (the summary), then the per-operation rows come in ops.csv. */
export function resultsCsv(results: readonly SystemResult[], baseline: SystemResult): string {
  const header = [
    'system',
    'ops',
    'failed',
    'soft_p50_ms',
    'soft_p90_ms',
    'soft_max_ms',
    'final_p50_ms',
    'final_p90_ms',
    'final_max_ms',
    'final_ops_per_s',
    'soft_ops_per_s',
    'l1_gas_per_op',
    'usd_per_op',
    'side_gas_per_op',
    'l1_txs',
    'soft_latency_change_pct',
    'final_latency_change_pct',
    'cost_change_pct',
  ];
  const rows = results.map((r) => {
    const x = ratiosAgainst(baseline, r);
    return [
      SYSTEM_LABELS[r.system],
      r.ops,
      r.failed,
      Math.round(r.soft.p50),
      Math.round(r.soft.p90),
      Math.round(r.soft.max),
      Math.round(r.final.p50),
      Math.round(r.final.p90),
      Math.round(r.final.max),
      r.finalOpsPerSec.toFixed(4),
      r.softOpsPerSec.toFixed(4),
      Math.round(r.l1GasPerOp),
      r.usdPerOp.toFixed(6),
      r.sideGasPerOp === undefined ? '' : Math.round(r.sideGasPerOp),
      r.l1Txs,
      x.softLatencyChangePct.toFixed(1),
      x.finalLatencyChangePct.toFixed(1),
      x.costChangePct.toFixed(1),
    ];
  });
  return toCsv(header, rows);
}

const fmt = (n: number, digits = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a');
const sec = (ms: number): string => fmt(ms / 1000, 2);
const signed = (v: number): string => (Number.isFinite(v) ? `${v >= 0 ? '+' : ''}${v.toFixed(1)} %` : 'n/a');

/** The markdown tables: latency, throughput, cost, ratios, claims. */
export function summaryTables(results: readonly SystemResult[], baseline: SystemResult, claims: readonly ClaimCheck[], prices: Prices): string {
  const lat = results.map(
    (r) =>
      `| ${SYSTEM_LABELS[r.system]} | ${r.ops - r.failed}/${r.ops} | ${sec(r.soft.p50)} | ${sec(r.soft.p90)} | ${sec(r.soft.max)} | ${sec(r.final.p50)} | ${sec(r.final.p90)} | ${sec(r.final.max)} |`,
  );
  const thr = results.map((r) => `| ${SYSTEM_LABELS[r.system]} | ${fmt(r.softOpsPerSec, 3)} | ${fmt(r.finalOpsPerSec, 3)} | ${r.l1Txs} |`);
  const cost = results.map(
    (r) => `| ${SYSTEM_LABELS[r.system]} | ${fmt(r.l1GasPerOp)} | $${fmt(r.usdPerOp, 4)} | ${r.sideGasPerOp === undefined ? '–' : fmt(r.sideGasPerOp)} |`,
  );
  const rat = results
    .filter((r) => r.system !== baseline.system)
    .map((r) => {
      const x = ratiosAgainst(baseline, r);
      return `| ${SYSTEM_LABELS[r.system]} | ${signed(x.softLatencyChangePct)} | ${signed(x.finalLatencyChangePct)} | ${signed(x.costChangePct)} | ${fmt(x.finalThroughputRatio, 2)}x |`;
    });
  const cl = claims.map((c) => `| ${c.claim} | ${c.measured} | ${c.holds ? 'holds' : 'does not hold'} |`);
  return [
    '| latency (s) | ops ok | soft p50 | soft p90 | soft max | L1-final p50 | L1-final p90 | L1-final max |',
    '|---|---|---|---|---|---|---|---|',
    ...lat,
    '',
    '| throughput | soft ops/s | L1-final ops/s | L1 txs sent |',
    '|---|---|---|---|',
    ...thr,
    '',
    `| cost | L1 gas per op (mean) | USD per op at ${prices.gasGwei} gwei, $${prices.ethUsd}/ETH | sidechain gas per op |`,
    '|---|---|---|---|',
    ...cost,
    '',
    '| vs L1-only | soft latency p50 | L1-final latency p50 | L1 gas per op | L1-final throughput |',
    '|---|---|---|---|---|',
    ...rat,
    '',
    "| the paper's claim (ours vs L1-only) | measured | verdict |",
    '|---|---|---|',
    ...cl,
  ].join('\n');
}
