import { METRICS, WorkloadTable } from './table';

const PANEL_W = 260;
const PANEL_H = 220;
const BAR_AREA_H = 140;
const TITLE_H = 34;
const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7'];

/** A self-contained SVG: one row of four bar panels (one per metric) for each workload. */
export function renderChartSvg(tables: readonly WorkloadTable[]): string {
  const width = PANEL_W * METRICS.length + 20;
  const legendH = 18 * Math.max(0, ...tables.map((t) => t.rows.length));
  const blockH = TITLE_H + PANEL_H + legendH + 10;
  const height = blockH * Math.max(1, tables.length);
  const parts: string[] = [];
  tables.forEach((table, ti) => {
    const y0 = ti * blockH;
    parts.push(text(10, y0 + 22, `${table.mode}: ${table.inputLen} in / ${table.outputLen} out tokens per request`, 15, 'bold'));
    METRICS.forEach((metric, mi) => {
      const x0 = 10 + mi * PANEL_W;
      const top = y0 + TITLE_H;
      const max = Math.max(...table.rows.map((r) => r.values[metric.key]), 0) || 1;
      const barW = Math.max(8, (PANEL_W - 40) / Math.max(1, table.rows.length) - 6);
      parts.push(text(x0, top + 14, metric.label, 12));
      table.rows.forEach((row, ri) => {
        const v = row.values[metric.key];
        const h = (v / max) * BAR_AREA_H;
        const x = x0 + 10 + ri * (barW + 6);
        const yBase = top + 30 + BAR_AREA_H;
        parts.push(`<rect x="${x.toFixed(1)}" y="${(yBase - h).toFixed(1)}" width="${barW.toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[ri % COLORS.length]}"><title>${escapeXml(`${row.configuration}: ${v.toFixed(2)}`)}</title></rect>`);
        parts.push(text(x + barW / 2, yBase - h - 4, v.toFixed(v >= 100 ? 0 : 2), 10, 'normal', 'middle'));
      });
    });
    table.rows.forEach((row, ri) => {
      const y = y0 + TITLE_H + PANEL_H + ri * 18;
      parts.push(`<rect x="10" y="${y - 10}" width="12" height="12" fill="${COLORS[ri % COLORS.length]}"/>`);
      parts.push(text(28, y, row.configuration + (row.configuration === table.baseline ? ' (baseline)' : ''), 12));
    });
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function text(x: number, y: number, content: string, size: number, weight = 'normal', anchor = 'start'): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${size}" font-weight="${weight}" text-anchor="${anchor}">${escapeXml(content)}</text>`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
