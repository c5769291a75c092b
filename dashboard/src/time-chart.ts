import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SeriesSpec {
  label: string;
  color: string;
  /** Which y scale (left 'y' default, or a second one drawn on the right). */
  scale?: string;
}

export interface TimeChart {
  /** Times in epoch ms and one array per series (null = gap). */
  set(times: number[], values: (number | null)[][]): void;
  destroy(): void;
}

/**
 * A live time-series chart (uPlot: small, canvas, made for streaming data). setData replaces the
 * points in place, so updating every few seconds does not allocate a new chart.
 */
export function createTimeChart(parent: HTMLElement, series: SeriesSpec[], height = 200): TimeChart {
  const scales = [...new Set(series.map((s) => s.scale ?? 'y'))];
  const opts: uPlot.Options = {
    width: Math.max(300, parent.clientWidth || 600),
    height,
    series: [
      {},
      ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, scale: s.scale ?? 'y', spanGaps: false })),
    ],
    axes: [
      { stroke: '#9aa4b2', grid: { stroke: '#2a313c' } },
      ...scales.map((sc, i) => ({
        scale: sc,
        stroke: '#9aa4b2',
        side: i === 0 ? 3 : 1,
        grid: { show: i === 0, stroke: '#2a313c' },
      })),
    ],
    scales: { x: { time: true } },
    legend: { live: false },
  };
  const chart = new uPlot(opts, [[], ...series.map(() => [])], parent);
  // Follows the panel's width (the grid reflows on resize).
  const ro = new ResizeObserver(() => {
    const w = parent.clientWidth;
    if (w > 0 && Math.abs(w - chart.width) > 2) chart.setSize({ width: w, height });
  });
  ro.observe(parent);
  return {
    set(times, values) {
      chart.setData([times.map((t) => t / 1000), ...values] as uPlot.AlignedData);
    },
    destroy() {
      ro.disconnect();
      chart.destroy();
    },
  };
}
