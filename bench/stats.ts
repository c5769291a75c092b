/** One measured figure of a scenario: every run's value, summarised as median and spread. */
export interface Figure {
  scenario: string;
  variant: string;
  measure: string;
  unit: string;
  values: number[];
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Spread as (max − min) / median, in percent: how far apart the runs were. */
export function spread(xs: readonly number[]): number {
  const m = median(xs);
  return xs.length < 2 || m === 0 ? 0 : ((Math.max(...xs) - Math.min(...xs)) / Math.abs(m)) * 100;
}

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

const fmt = (v: number) =>
  Number.isNaN(v) ? '—' : Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3);

/** Figures as a Markdown table (the one bench/results.md holds and README embeds). */
export function toMarkdown(figures: readonly Figure[]): string {
  const lines = ['| scenario | variant | measure | median | spread | runs |', '|---|---|---|---:|---:|---:|'];
  for (const f of figures) {
    lines.push(
      `| ${f.scenario} | ${f.variant} | ${f.measure} | ${fmt(median(f.values))} ${f.unit} | ±${spread(f.values).toFixed(0)} % | ${f.values.length} |`,
    );
  }
  return lines.join('\n');
}

/** Collects figures by (scenario, variant, measure), one value per run. */
export function createFigures() {
  const all = new Map<string, Figure>();
  return {
    add(scenario: string, variant: string, measure: string, unit: string, value: number): void {
      const k = `${scenario}\u0000${variant}\u0000${measure}`;
      let f = all.get(k);
      if (!f) all.set(k, (f = { scenario, variant, measure, unit, values: [] }));
      f.values.push(value);
    },
    get(scenario: string, variant: string, measure: string): number {
      return median(all.get(`${scenario}\u0000${variant}\u0000${measure}`)?.values ?? []);
    },
    list: (): Figure[] => [...all.values()],
  };
}

export type Figures = ReturnType<typeof createFigures>;
