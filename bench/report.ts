/** One benchmark figure, printed as one JSON line. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  target?: string;
}

export function report(f: Figure): void {
  console.log(JSON.stringify({ name: f.name, value: Number(f.value.toFixed(3)), unit: f.unit, target: f.target ?? null }));
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
