import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as ChartJs from 'chart.js';
import type * as NapiCanvas from '@napi-rs/canvas';

/**
 * A bar chart as PNG, drawn by Chart.js on a Skia canvas (@napi-rs/canvas, prebuilt, no
 * system packages) with a CJK font shipped in cards/fonts, so department names sit on the
 * axis in Chinese. The same bytes go into the chat card and the exported workbook.
 *
 * Sized for a phone: 360 logical px wide at 2× (a 720 px PNG), which a chat client shows at
 * about its own width, so 12 px text reads as 12 pt. Up to VERTICAL_MAX bars stand upright with
 * wrapped names; more lie flat, one row each, so a long list grows downwards instead of shrinking.
 */

export interface BarChartInput {
  /** One name per bar (department, notice…), in display order. */
  labels: string[];
  /** Values 0..100 (percent), in the order of `labels`. */
  values: number[];
  /** A dashed target line (e.g. 100 for full coverage). */
  target?: number;
  title?: string;
}

/** Logical width; the PNG is CHART_SCALE times this. */
export const CHART_LOGICAL_WIDTH = 360;
export const CHART_SCALE = 2;
export const CHART_WIDTH = CHART_LOGICAL_WIDTH * CHART_SCALE;
export const VERTICAL_MAX = 5;

export const CHART_FONT_FAMILY = 'QL Noto Sans SC';
const FONT_FILE = fileURLToPath(new URL('./fonts/NotoSansSC-Regular.subset.ttf', import.meta.url));
const FONT_SIZE = 12;
const INK = '#1f2329';
const MUTED = '#646a73';

interface Lib {
  Chart: typeof ChartJs.Chart;
  createCanvas: typeof NapiCanvas.createCanvas;
}
let lib: Lib | undefined;

/**
 * Loaded on the first chart, not at start-up: the Skia binding and Chart.js cost tens of
 * milliseconds and most processes (the scheduler, the CLI) never draw one. `require` keeps
 * renderBarChart synchronous for its callers.
 */
function load(): Lib {
  if (lib) return lib;
  const require = createRequire(import.meta.url);
  const canvas = require('@napi-rs/canvas') as typeof NapiCanvas;
  const chartjs = require('chart.js') as typeof ChartJs;
  if (!canvas.GlobalFonts.has(CHART_FONT_FAMILY) && !canvas.GlobalFonts.registerFromPath(FONT_FILE, CHART_FONT_FAMILY)) {
    throw new Error(`chart font could not be loaded from ${FONT_FILE}`);
  }
  chartjs.Chart.register(chartjs.BarController, chartjs.BarElement, chartjs.CategoryScale, chartjs.LinearScale, chartjs.Title);
  lib = { Chart: chartjs.Chart, createCanvas: canvas.createCanvas };
  return lib;
}

/** Display width in units of one CJK character: Latin letters and digits take about half. */
const unitsOf = (ch: string): number => (ch.charCodeAt(0) > 0x2e80 ? 1 : 0.55);

/** A name cut into lines of at most `perLine` units, the last one ending in "…" when it does not fit. */
export function wrapLabel(name: string, perLine: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = '';
  let used = 0;
  const chars = [...name.trim()];
  for (let i = 0; i < chars.length; i++) {
    const u = unitsOf(chars[i]);
    if (used + u > perLine && line !== '') {
      if (lines.length === maxLines - 1) {
        return [...lines, `${[...line].slice(0, -1).join('')}…`];
      }
      lines.push(line);
      line = '';
      used = 0;
    }
    line += chars[i];
    used += u;
  }
  return line === '' ? lines : [...lines, line];
}

interface Layout {
  horizontal: boolean;
  labels: string[][];
  width: number;
  height: number;
}

function layoutOf(input: BarChartInput): Layout {
  const n = input.values.length;
  const horizontal = n > VERTICAL_MAX;
  const titleH = input.title ? 28 : 0;
  if (horizontal) {
    const labels = input.labels.map((l) => wrapLabel(l ?? '', 7, 2));
    const row = labels.some((l) => l.length > 1) ? 34 : 24;
    return { horizontal, labels, width: CHART_LOGICAL_WIDTH, height: titleH + 40 + n * row };
  }
  const perLine = Math.max(2, Math.floor((CHART_LOGICAL_WIDTH - 48) / Math.max(1, n) / FONT_SIZE) - 1);
  const labels = input.labels.map((l) => wrapLabel(l ?? '', perLine, 3));
  const lines = Math.max(1, ...labels.map((l) => l.length));
  return { horizontal, labels, width: CHART_LOGICAL_WIDTH, height: titleH + 240 + lines * 15 };
}

const colourFor = (v: number): string => (v >= 100 ? '#2e9e5b' : v >= 80 ? '#1e6fd9' : v >= 60 ? '#e8780c' : '#c62828');
const clamp = (raw: number): number => Math.max(0, Math.min(100, Number.isFinite(raw) ? raw : 0));

export function renderBarChart(input: BarChartInput): Buffer {
  if (input.labels.length !== input.values.length) throw new Error(`bar chart: ${input.labels.length} labels for ${input.values.length} values`);
  const { Chart, createCanvas } = load();
  const values = input.values.map(clamp);
  const layout = layoutOf(input);
  const font = { family: CHART_FONT_FAMILY, size: FONT_SIZE };
  const valueAxis = layout.horizontal ? 'x' : 'y';
  const nameAxis = layout.horizontal ? 'y' : 'x';
  const decorations: ChartJs.Plugin<'bar'> = {
    id: 'qlDecorations',
    // A transparent PNG turns black in some clients' dark mode.
    beforeDraw(chart) {
      const c = chart.ctx;
      c.save();
      c.fillStyle = '#ffffff';
      c.fillRect(0, 0, chart.width, chart.height);
      c.restore();
    },
    // Behind the bars and their values, so a value at the target stays legible.
    beforeDatasetsDraw(chart) {
      const c = chart.ctx;
      const area = chart.chartArea;
      c.save();
      if (input.target !== undefined) {
        const scale = chart.scales[valueAxis];
        const at = scale.getPixelForValue(input.target);
        c.strokeStyle = '#c62828';
        c.lineWidth = 1.5;
        c.setLineDash([5, 3]);
        c.beginPath();
        if (layout.horizontal) {
          c.moveTo(at, area.top);
          c.lineTo(at, area.bottom);
        } else {
          c.moveTo(area.left, at);
          c.lineTo(area.right, at);
        }
        c.stroke();
        c.setLineDash([]);
      }
      c.restore();
    },
    afterDatasetsDraw(chart) {
      const c = chart.ctx;
      c.save();
      c.fillStyle = INK;
      c.font = `${FONT_SIZE - 1}px "${CHART_FONT_FAMILY}"`;
      chart.getDatasetMeta(0).data.forEach((bar, i) => {
        const text = `${values[i].toFixed(1)}%`;
        if (layout.horizontal) {
          c.textAlign = 'left';
          c.textBaseline = 'middle';
          c.fillText(text, bar.x + 4, bar.y);
        } else {
          c.textAlign = 'center';
          c.textBaseline = 'bottom';
          c.fillText(text, bar.x, bar.y - 3);
        }
      });
      c.restore();
    },
  };
  const canvas = createCanvas(layout.width, layout.height);
  const chart = new Chart(canvas as unknown as HTMLCanvasElement, {
    type: 'bar',
    data: {
      labels: layout.labels,
      datasets: [{ data: values, backgroundColor: values.map(colourFor), categoryPercentage: 0.8, barPercentage: 0.85, maxBarThickness: 40 }],
    },
    options: {
      animation: false,
      responsive: false,
      devicePixelRatio: CHART_SCALE,
      indexAxis: nameAxis,
      // Room for "100.0%" past the longest bar, or above the tallest.
      layout: { padding: layout.horizontal ? { top: 4, right: 44, bottom: 4, left: 4 } : { top: 20, right: 8, bottom: 4, left: 4 } },
      scales: {
        [valueAxis]: { min: 0, max: 100, ticks: { stepSize: 25, callback: (v: string | number) => `${v}%`, font, color: MUTED }, grid: { color: '#e5e6eb' }, border: { display: false } },
        [nameAxis]: { ticks: { autoSkip: false, maxRotation: 0, minRotation: 0, font, color: INK }, grid: { display: false } },
      },
      plugins: {
        legend: { display: false },
        tooltip: { enabled: false },
        title: { display: input.title !== undefined, text: input.title ?? '', font: { family: CHART_FONT_FAMILY, size: 14, weight: 'bold' }, color: INK, padding: { top: 4, bottom: 8 } },
      },
    },
    plugins: [decorations],
  });
  try {
    return canvas.toBuffer('image/png');
  } finally {
    chart.destroy();
  }
}
