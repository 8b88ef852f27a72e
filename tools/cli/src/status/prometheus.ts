/** The values of every series of one metric in Prometheus text (empty when the metric is absent). */
export function sampleValues(text: string, metric: string): number[] {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const next = line[metric.length];
    if (next !== '{' && next !== ' ') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isNaN(value)) values.push(value);
  }
  return values;
}
