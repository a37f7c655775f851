/**
 * The pure parts of the compare harness (bench/compare): percentiles, per-system results, ratios
 * and the paper's claims, CSV escaping, the workload generator, and SVG charts that resvg renders.
 * No chains.
 */
import { checkClaims, csvField, percentile, ratiosAgainst, summarize, systemResult, toCsv, gasToUsd, resultsCsv, summaryTables, type OpTiming } from '../../bench/compare/report.js';
import { barChartSvg, escapeXml, niceCeil, svgToPng } from '../../bench/compare/svg.js';
import { countsFor, generateWorkload, parseMix } from '../../bench/compare/workload.js';
import { breakEven, fitLine } from '../../bench/fit.js';

const prices = { gasGwei: 20, ethUsd: 3000 };

/** n operations sent at 0 with the given soft/final latencies and gas. */
const timings = (rows: [soft: number, final: number, gas: number][]): OpTiming[] => rows.map(([soft, final, gas], i) => ({ op: i, kind: 'upload', sentMs: 0, softMs: soft, finalMs: final, l1Gas: gas }));

describe('percentiles', () => {
  it('uses the nearest rank', () => {
    const s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(s, 50)).toBe(5);
    expect(percentile(s, 90)).toBe(9);
    expect(percentile(s, 100)).toBe(10);
    expect(percentile(s, 0)).toBe(1);
    expect(percentile([7], 90)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
  it('summarizes unsorted input', () => {
    expect(summarize([30, 10, 20, 40])).toEqual({ n: 4, p50: 20, p90: 40, max: 40, mean: 25 });
  });
});

describe('results, ratios and claims', () => {
  const l1 = systemResult('l1', timings([[12_000, 12_000, 60_000], [12_000, 12_000, 60_000], [24_000, 24_000, 60_000]]), prices, 3);
  it('computes throughput over the window from the run start and USD from gas', () => {
    expect(l1.finalOpsPerSec).toBeCloseTo(3 / 24);
    expect(l1.softOpsPerSec).toBeCloseTo(3 / 24);
    expect(l1.l1GasPerOp).toBe(60_000);
    expect(l1.usdPerOp).toBeCloseTo(gasToUsd(60_000, 20, 3000));
    expect(gasToUsd(60_000, 20, 3000)).toBeCloseTo(3.6);
  });
  it('counts failed operations apart', () => {
    const r = systemResult('rollup', [...timings([[10, 50_000, 40_000]]), { op: 1, kind: 'claim', sentMs: 0, error: 'NO_CONSENT' }], prices, 1);
    expect(r.ops).toBe(2);
    expect(r.failed).toBe(1);
    expect(r.soft.n).toBe(1);
  });
  it('checks the claims against what was measured, not what was hoped', () => {
    const fast = systemResult('rollup', timings([[20, 60_000, 1_000], [30, 60_000, 1_000], [40, 60_000, 1_000]]), prices, 1);
    const x = ratiosAgainst(l1, fast);
    expect(x.softLatencyChangePct).toBeCloseTo(((30 - 12_000) / 12_000) * 100);
    expect(x.finalLatencyChangePct).toBeCloseTo(400);
    const claims = checkClaims(l1, fast);
    expect(claims.map((c) => c.holds)).toEqual([true, false, true, true]);
    const dear = systemResult('rollup', timings([[20, 5_000, 45_000]]), prices, 1);
    const c2 = checkClaims(l1, dear);
    expect(c2[1]!.holds).toBe(true); // -58 % latency at L1 finality
    expect(c2[2]!.holds).toBe(false); // -25 % cost
    expect(c2[3]!.holds).toBe(false); // $2.70
    expect(c2[2]!.measured).toBe('-25.0 %');
  });
  it('renders the markdown tables and the summary CSV', () => {
    const side = systemResult('sidechain', timings([[2_000, 30_000, 3_000]]), prices, 1);
    const md = summaryTables([l1, side], l1, checkClaims(l1, side), prices);
    expect(md).toContain('| L1-only (BaselineRegistry on L1) | 3/3 | 12.00 |');
    expect(md).toContain('does not hold');
    const csv = resultsCsv([l1, side], l1).split('\r\n');
    expect(csv[0]!.startsWith('system,ops,failed,')).toBe(true);
    expect(csv).toHaveLength(4); // header, two rows, trailing empty
  });
});

describe('CSV', () => {
  it('quotes only what needs quoting', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(undefined)).toBe('');
    expect(csvField(Number.NaN)).toBe('');
    expect(csvField(42)).toBe('42');
    expect(toCsv(['a', 'b'], [[1, 'x,y']])).toBe('a,b\r\n1,"x,y"\r\n');
  });
});

describe('workload', () => {
  it('parses the mix and keeps exact counts', () => {
    const mix = parseMix('upload=2,access=3,update=2,claim=1');
    expect(countsFor(mix, 48)).toEqual({ upload: 12, update: 12, access: 18, claim: 6 });
    expect(() => parseMix('upload=1,delete=2')).toThrow(/delete/);
    expect(() => parseMix('access=1')).toThrow(/upload/);
  });
  it('is deterministic for a seed and orders every update after its upload', () => {
    const o = { ops: 24, mix: parseMix('upload=2,access=3,update=2,claim=1'), seed: 7, fileKb: 1 };
    const a = generateWorkload(o);
    const b = generateWorkload(o);
    expect(a.ops).toEqual(b.ops);
    expect(generateWorkload({ ...o, seed: 8 }).ops).not.toEqual(a.ops);
    const uploaded = new Set<number>();
    for (const op of a.ops) {
      if (op.kind === 'upload') {
        expect(uploaded.has(op.patient)).toBe(false);
        uploaded.add(op.patient);
      }
      if (op.kind === 'update') expect(uploaded.has(op.patient)).toBe(true);
      if (op.kind === 'upload' || op.kind === 'update') expect(op.payloadBytes).toBe(1024 + 16 + 12);
      expect(op.hash).toMatch(/^0x[0-9a-f]{64}$/);
    }
    expect(a.patients).toBe(6);
  });
});

describe('SVG charts', () => {
  const chart = {
    title: 'Latency <p50> & "final"',
    yLabel: 'seconds',
    groups: ['L1-only', 'sidechain', 'zk-rollup'],
    series: [
      { name: 'soft', color: '#4e79a7', values: [12, 2, 0.02] },
      { name: 'final', color: '#e15759', values: [12, 31, Number.NaN] },
    ],
  };
  it('escapes text and draws one bar per finite value', () => {
    const svg = barChartSvg(chart);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain(escapeXml(chart.title));
    expect(svg).not.toContain('<p50>');
    expect(svg.match(/<rect [^>]*height=/g)!.length - 1 - chart.series.length).toBe(5); // minus background and legend swatches
    expect(niceCeil(31)).toBe(50);
    expect(niceCeil(0.02)).toBeCloseTo(0.02);
  });
  it('renders to a PNG with resvg (linear and log axes)', () => {
    for (const log of [false, true]) {
      const png = svgToPng(barChartSvg({ ...chart, log }));
      expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(png.length).toBeGreaterThan(1000);
    }
  });
});

describe('batch gas fit (npm run bench -- batchgas)', () => {
  it('fits gas = a + b n exactly through points on a line, and by least squares otherwise', () => {
    expect(fitLine([1, 8, 64], [352_500, 370_000, 510_000])).toEqual({ a: 350_000, b: 2_500, points: 3 });
    const noisy = fitLine([1, 2, 3, 4], [10, 13, 14, 17]);
    expect(noisy.b).toBeCloseTo(2.2, 10);
    expect(noisy.a).toBeCloseTo(8, 10);
  });
  it('has no line through fewer than two distinct sizes', () => {
    expect(fitLine([], [])).toEqual({ a: NaN, b: NaN, points: 0 });
    expect(fitLine([8, 8], [1, 2]).b).toBeNaN();
  });
  it('finds the smallest batch size whose gas per transaction reaches the target', () => {
    const fit = { a: 350_000, b: 2_500, points: 3 };
    const n = breakEven(fit, 3_000)!;
    expect(n).toBe(700);
    expect((fit.a + fit.b * n) / n).toBeLessThanOrEqual(3_000);
    expect((fit.a + fit.b * (n - 1)) / (n - 1)).toBeGreaterThan(3_000);
    expect(breakEven(fit, 1_000_000)).toBe(1);
  });
  it('reports no batch size when the marginal gas per transaction is at or above the target', () => {
    expect(breakEven({ a: 350_000, b: 2_500, points: 3 }, 1_913)).toBeUndefined();
    expect(breakEven({ a: 350_000, b: 2_500, points: 3 }, 2_500)).toBeUndefined();
    expect(breakEven({ a: NaN, b: NaN, points: 0 }, 5_000)).toBeUndefined();
  });
});
