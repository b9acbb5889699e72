import { deflateSync } from 'node:zlib';

/**
 * A bar chart as PNG, drawn in plain TypeScript: no browser, no native canvas, no fonts
 * to install. Bars are labelled with their number (matching the rows of the card's table,
 * which carries the Chinese names) and their value in percent, in a built-in 5×7 digit font.
 */

export interface BarChartInput {
  /** Values 0..100 (percent), in display order. */
  values: number[];
  /** Optional target line (e.g. 100 for full coverage). */
  target?: number;
}

export const CHART_HEIGHT = 320;
export const chartWidth = (bars: number): number => Math.max(480, 80 + bars * 56);

const GLYPHS: Record<string, string[]> = {
  '0': ['01110', '10001', '10011', '10101', '11001', '10001', '01110'],
  '1': ['00100', '01100', '00100', '00100', '00100', '00100', '01110'],
  '2': ['01110', '10001', '00001', '00010', '00100', '01000', '11111'],
  '3': ['11110', '00001', '00001', '01110', '00001', '00001', '11110'],
  '4': ['00010', '00110', '01010', '10010', '11111', '00010', '00010'],
  '5': ['11111', '10000', '11110', '00001', '00001', '10001', '01110'],
  '6': ['00110', '01000', '10000', '11110', '10001', '10001', '01110'],
  '7': ['11111', '00001', '00010', '00100', '01000', '01000', '01000'],
  '8': ['01110', '10001', '10001', '01110', '10001', '10001', '01110'],
  '9': ['01110', '10001', '10001', '01111', '00001', '00010', '01100'],
  '%': ['11001', '11010', '00010', '00100', '01000', '01011', '10011'],
  '.': ['00000', '00000', '00000', '00000', '00000', '01100', '01100'],
};

type RGB = [number, number, number];

class Raster {
  readonly px: Buffer;
  constructor(
    readonly w: number,
    readonly h: number,
    bg: RGB,
  ) {
    this.px = Buffer.alloc(w * h * 3);
    this.rect(0, 0, w, h, bg);
  }
  rect(x: number, y: number, w: number, h: number, c: RGB): void {
    const x0 = Math.max(0, Math.floor(x));
    const y0 = Math.max(0, Math.floor(y));
    const x1 = Math.min(this.w, Math.floor(x + w));
    const y1 = Math.min(this.h, Math.floor(y + h));
    for (let yy = y0; yy < y1; yy++) {
      for (let xx = x0; xx < x1; xx++) {
        const i = (yy * this.w + xx) * 3;
        this.px[i] = c[0];
        this.px[i + 1] = c[1];
        this.px[i + 2] = c[2];
      }
    }
  }
  text(s: string, cx: number, y: number, scale: number, c: RGB): void {
    const width = s.length * 6 * scale - scale;
    let x = cx - width / 2;
    for (const ch of s) {
      const g = GLYPHS[ch];
      if (g) g.forEach((row, ry) => [...row].forEach((bit, rx) => bit === '1' && this.rect(x + rx * scale, y + ry * scale, scale, scale, c)));
      x += 6 * scale;
    }
  }
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

export function encodePng(r: Raster): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(r.w, 0);
  ihdr.writeUInt32BE(r.h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // truecolour RGB
  const raw = Buffer.alloc((r.w * 3 + 1) * r.h);
  for (let y = 0; y < r.h; y++) r.px.copy(raw, y * (r.w * 3 + 1) + 1, y * r.w * 3, (y + 1) * r.w * 3);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

const colourFor = (v: number): RGB => (v >= 100 ? [46, 158, 91] : v >= 80 ? [30, 111, 217] : v >= 60 ? [232, 120, 12] : [198, 40, 40]);

export function renderBarChart(input: BarChartInput): Buffer {
  const n = input.values.length;
  const w = chartWidth(n);
  const h = CHART_HEIGHT;
  const r = new Raster(w, h, [255, 255, 255]);
  const left = 40;
  const top = 30;
  const bottom = h - 40;
  const plotH = bottom - top;
  const slot = (w - left - 20) / Math.max(1, n);
  // Grid lines at 0, 25, 50, 75, 100 %.
  for (let g = 0; g <= 4; g++) {
    const y = bottom - (plotH * g) / 4;
    r.rect(left, y, w - left - 20, 1, [229, 230, 235]);
    r.text(String(g * 25), left - 18, y - 3, 1, [100, 106, 115]);
  }
  input.values.forEach((raw, i) => {
    const v = Math.max(0, Math.min(100, Number.isFinite(raw) ? raw : 0));
    const bw = Math.min(36, slot * 0.6);
    const cx = left + slot * i + slot / 2;
    const bh = (plotH * v) / 100;
    r.rect(cx - bw / 2, bottom - bh, bw, bh, colourFor(v));
    r.text(`${Math.round(v)}%`, cx, bottom - bh - 12, 1, [31, 35, 41]);
    r.text(String(i + 1), cx, bottom + 10, 2, [31, 35, 41]);
  });
  if (input.target !== undefined) r.rect(left, bottom - (plotH * input.target) / 100, w - left - 20, 2, [198, 40, 40]);
  r.rect(left, bottom, w - left - 20, 2, [31, 35, 41]);
  return encodePng(r);
}
