/** Small inline SVG line charts: no library, one path per series, scaled to the series' maximum. */

export interface Series {
  name: string;
  color: string;
  /** Drawn dashed, so a series equal to another stays visible. */
  dashed?: boolean;
  values: (number | null)[];
}

const WIDTH = 320;
const HEIGHT = 80;

function pathOf(values: (number | null)[], max: number): string {
  const step = values.length > 1 ? WIDTH / (values.length - 1) : WIDTH;
  let d = '';
  let pen = false;
  values.forEach((value, i) => {
    if (value === null) {
      pen = false;
      return;
    }
    const x = (i * step).toFixed(1);
    const y = (HEIGHT - (value / max) * (HEIGHT - 4) - 2).toFixed(1);
    d += `${pen ? 'L' : 'M'}${x},${y} `;
    pen = true;
  });
  return d.trim();
}

export function LineChart({ title, unit, series }: { title: string; unit: string; series: Series[] }) {
  const max = Math.max(1, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
  return (
    <figure class="chart">
      <figcaption>
        {title}
        <span class="max">
          max {Number.isInteger(max) ? max : max.toFixed(2)} {unit}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} preserveAspectRatio="none" role="img" aria-label={title}>
        <line x1="0" y1={HEIGHT - 1} x2={WIDTH} y2={HEIGHT - 1} class="axis" />
        {series.map((s) => (
          <path
            key={s.name}
            d={pathOf(s.values, max)}
            stroke={s.color}
            fill="none"
            stroke-width="2"
            stroke-dasharray={s.dashed ? '5 4' : undefined}
          />
        ))}
      </svg>
      <div class="legend">
        {series.map((s) => (
          <span key={s.name}>
            <i style={{ background: s.color }} />
            {s.name}
          </span>
        ))}
      </div>
    </figure>
  );
}
