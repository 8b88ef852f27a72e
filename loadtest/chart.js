// A small SVG line chart (no dependency): p99 latency against offered load, one line per series.
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea'];

/** series: [{ name, points: [[x, y], ...] }]; returns the SVG document as text. */
function lineChart({ title, xLabel, yLabel, series, width = 640, height = 360 }) {
  const margin = { left: 60, right: 150, top: 36, bottom: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = series.flatMap((s) => s.points.map(([, y]) => y));
  const xMax = Math.max(1, ...xs);
  const yMax = Math.max(1, ...ys) * 1.1;
  const px = (x) => margin.left + (x / xMax) * plotW;
  const py = (y) => margin.top + plotH - (y / yMax) * plotH;
  const ticks = (max) => Array.from({ length: 5 }, (_, i) => (max * (i + 1)) / 5);
  const text = (x, y, content, extra = '') =>
    `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="12" font-family="sans-serif" ${extra}>${content}</text>`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    text(margin.left, 20, title, 'font-weight="bold"'),
    `<line x1="${margin.left}" y1="${margin.top + plotH}" x2="${margin.left + plotW}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<line x1="${margin.left}" y1="${margin.top}" x2="${margin.left}" y2="${margin.top + plotH}" stroke="#333"/>`,
    ...ticks(xMax).map((x) => text(px(x) - 12, margin.top + plotH + 16, Math.round(x))),
    ...ticks(yMax).map(
      (y) =>
        `<line x1="${margin.left}" y1="${py(y).toFixed(1)}" x2="${margin.left + plotW}" y2="${py(y).toFixed(1)}" stroke="#eee"/>` +
        text(8, py(y) + 4, Math.round(y)),
    ),
    text(margin.left + plotW / 2 - 60, height - 10, xLabel),
    text(8, margin.top - 10, yLabel),
    ...series.map((s, i) => {
      const color = COLORS[i % COLORS.length];
      const path = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
      const dots = s.points
        .map(([x, y]) => `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"/>`)
        .join('');
      const legendY = margin.top + 16 + i * 18;
      return (
        `<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>${dots}` +
        `<line x1="${margin.left + plotW + 12}" y1="${legendY - 4}" x2="${margin.left + plotW + 28}" y2="${legendY - 4}" stroke="${color}" stroke-width="2"/>` +
        text(margin.left + plotW + 32, legendY, s.name)
      );
    }),
    '</svg>',
  ];
  return `${parts.join('\n')}\n`;
}

module.exports = { lineChart };
