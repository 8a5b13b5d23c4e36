/**
 * A small SVG writer for horizontal bar charts with min–max whiskers, so the
 * charts in RESULTS.md come from the measured numbers and nothing else.
 *
 * @module
 */

/** One bar: a label, the median and optional min/max whiskers. */
export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly min?: number;
  readonly max?: number;
  /** Highlight (our library) vs peer. */
  readonly ours?: boolean;
}

/** A panel: one metric over several bars. */
export interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly bars: readonly Bar[];
  /** A dashed target line. */
  readonly target?: number;
  /** `lower` or `higher` is better (shown in the title). */
  readonly better?: "lower" | "higher";
}

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function num(n: number): string {
  if (!Number.isFinite(n)) return "n/a";
  const a = Math.abs(n);
  if (a >= 1000) return Math.round(n).toLocaleString("en-US");
  return String(Number(n.toPrecision(3)));
}

/** Renders `panels` stacked vertically as one SVG document. */
export function barChart(title: string, panels: readonly Panel[], subtitle = ""): string {
  const width = 760;
  const labelW = 230;
  const plotW = width - labelW - 90;
  const barH = 18;
  const gap = 6;
  const parts: string[] = [];
  let y = 30;
  parts.push(`<text x="10" y="20" font-size="15" font-weight="bold">${esc(title)}</text>`);
  if (subtitle) {
    parts.push(`<text x="10" y="38" font-size="11" fill="#555">${esc(subtitle)}</text>`);
    y += 14;
  }
  for (const p of panels) {
    y += 22;
    const better = p.better ? ` (${p.better} is better)` : "";
    parts.push(`<text x="10" y="${y}" font-size="13" font-weight="bold">${esc(`${p.title}, ${p.unit}${better}`)}</text>`);
    y += 8;
    const top = Math.max(...p.bars.map((b) => (Number.isFinite(b.max ?? b.value) ? (b.max ?? b.value) : 0)), p.target ?? 0) || 1;
    const scale = plotW / top;
    const y0 = y;
    for (const b of p.bars) {
      const w = Number.isFinite(b.value) ? Math.max(1, b.value * scale) : 0;
      const fill = b.ours ? "#2b6cb0" : "#a0aec0";
      parts.push(`<text x="${labelW - 6}" y="${y + barH - 5}" font-size="11" text-anchor="end">${esc(b.label)}</text>`);
      parts.push(`<rect x="${labelW}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${fill}"/>`);
      if (b.min !== undefined && b.max !== undefined && Number.isFinite(b.min) && Number.isFinite(b.max)) {
        const x1 = labelW + b.min * scale;
        const x2 = labelW + b.max * scale;
        const cy = y + barH / 2;
        parts.push(`<path d="M${x1.toFixed(1)} ${cy}H${x2.toFixed(1)}M${x1.toFixed(1)} ${cy - 4}V${cy + 4}M${x2.toFixed(1)} ${cy - 4}V${cy + 4}" stroke="#1a202c" stroke-width="1"/>`);
      }
      const tx = labelW + Math.max(w, (b.max ?? 0) * scale) + 6;
      parts.push(`<text x="${tx.toFixed(1)}" y="${y + barH - 5}" font-size="11">${esc(num(b.value))}</text>`);
      y += barH + gap;
    }
    if (p.target !== undefined) {
      const x = labelW + p.target * scale;
      parts.push(`<path d="M${x.toFixed(1)} ${y0 - 4}V${y - gap + 4}" stroke="#c53030" stroke-dasharray="4 3"/>`);
      parts.push(`<text x="${(x + 3).toFixed(1)}" y="${y0 + 2}" font-size="10" fill="#c53030">target ${esc(num(p.target))}</text>`);
    }
  }
  y += 20;
  parts.push(`<text x="10" y="${y}" font-size="10" fill="#555">Bars: median; whiskers: min–max. Blue: kratos-kube; grey: peers and baselines.</text>`);
  const h = y + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" font-family="system-ui, sans-serif">\n<rect width="100%" height="100%" fill="#fff"/>\n${parts.join("\n")}\n</svg>\n`;
}
