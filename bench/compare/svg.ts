/**
 * Hand-written SVG bar charts (grouped bars, one group per system, value labels on the bars) and
 * their PNG rendering with @resvg/resvg-js. Pure apart from the renderer.
 */
import { Resvg } from '@resvg/resvg-js';

export interface BarSeries {
  readonly name: string;
  readonly color: string;
  /** One value per group; NaN or undefined draws no bar. */
  readonly values: readonly (number | undefined)[];
}

export interface BarChart {
  readonly title: string;
  readonly yLabel: string;
  readonly groups: readonly string[];
  readonly series: readonly BarSeries[];
  /** Log10 axis (for values spanning orders of magnitude); bars start at the lowest decade. */
  readonly log?: boolean;
  /** Formats a value for its label; default 3 significant digits. */
  readonly format?: (v: number) => string;
  readonly width?: number;
  readonly height?: number;
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const defaultFormat = (v: number): string => (Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : Number(v.toPrecision(3)).toString());

/** Round-ish upper bound for a linear axis: 1, 2, 2.5 or 5 times a power of ten. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function barChartSvg(chart: BarChart): string {
  const W = chart.width ?? 720;
  const H = chart.height ?? 420;
  const fmt = chart.format ?? defaultFormat;
  const m = { top: 56, right: 20, bottom: 70, left: 84 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = chart.series.flatMap((s) => s.values).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const positive = all.filter((v) => v > 0);
  let y: (v: number) => number;
  const ticks: { v: number; label: string }[] = [];
  if (chart.log && positive.length) {
    const lo = Math.floor(Math.log10(Math.min(...positive)));
    const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...positive))));
    y = (v) => m.top + ph - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * ph;
    for (let e = lo; e <= hi; e++) ticks.push({ v: 10 ** e, label: fmt(10 ** e) });
  } else {
    const top = niceCeil(Math.max(0, ...all));
    y = (v) => m.top + ph - (Math.max(0, v) / top) * ph;
    for (let i = 0; i <= 5; i++) ticks.push({ v: (top * i) / 5, label: fmt((top * i) / 5) });
  }
  const base = m.top + ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">`);
  parts.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#ffffff"/>`);
  parts.push(`<text x="${W / 2}" y="24" font-size="16" font-weight="bold" text-anchor="middle">${escapeXml(chart.title)}</text>`);
  // Axes and grid.
  for (const t of ticks) {
    const ty = y(t.v).toFixed(1);
    parts.push(`<line x1="${m.left}" y1="${ty}" x2="${m.left + pw}" y2="${ty}" stroke="#e0e0e0" stroke-width="1"/>`);
    parts.push(`<text x="${m.left - 6}" y="${ty}" font-size="11" text-anchor="end" dominant-baseline="middle">${escapeXml(t.label)}</text>`);
  }
  parts.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${base}" stroke="#333" stroke-width="1"/>`);
  parts.push(`<line x1="${m.left}" y1="${base}" x2="${m.left + pw}" y2="${base}" stroke="#333" stroke-width="1"/>`);
  parts.push(
    `<text x="18" y="${m.top + ph / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 18 ${m.top + ph / 2})">${escapeXml(chart.yLabel + (chart.log ? ' (log scale)' : ''))}</text>`,
  );
  // Bars.
  const groupW = pw / Math.max(1, chart.groups.length);
  const barW = (groupW * 0.7) / Math.max(1, chart.series.length);
  chart.groups.forEach((g, gi) => {
    const gx = m.left + gi * groupW + groupW * 0.15;
    chart.series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === undefined || !Number.isFinite(v)) return;
      const x = gx + si * barW;
      const top = y(v);
      parts.push(`<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${Math.max(0, base - top).toFixed(1)}" fill="${escapeXml(s.color)}"/>`);
      parts.push(`<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(top - 4).toFixed(1)}" font-size="11" text-anchor="middle">${escapeXml(fmt(v))}</text>`);
    });
    parts.push(`<text x="${(m.left + gi * groupW + groupW / 2).toFixed(1)}" y="${base + 18}" font-size="12" text-anchor="middle">${escapeXml(g)}</text>`);
  });
  // Legend.
  chart.series.forEach((s, si) => {
    const lx = m.left + si * 180;
    const ly = H - 22;
    parts.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${escapeXml(s.color)}"/>`);
    parts.push(`<text x="${lx + 18}" y="${ly}" font-size="12">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** PNG bytes of an SVG document (resvg, system fonts loaded so the labels render). */
export function svgToPng(svg: string): Buffer {
  const r = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } });
  return r.render().asPng();
}
