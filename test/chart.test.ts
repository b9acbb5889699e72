import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CHART_WIDTH, renderBarChart, VERTICAL_MAX, wrapLabel } from '../cards/chart-png.js';

/** A minimal independent PNG reader: signature, chunks, IHDR, and the pixels with scanline filters undone. */
function readPng(png: Buffer) {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let off = 8;
  const chunks: { type: string; data: Buffer }[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    chunks.push({ type: png.toString('ascii', off + 4, off + 8), data: png.subarray(off + 8, off + 8 + len) });
    off += 12 + len;
  }
  const ihdr = chunks[0];
  expect(ihdr.type).toBe('IHDR');
  expect(chunks.at(-1)!.type).toBe('IEND');
  const width = ihdr.data.readUInt32BE(0);
  const height = ihdr.data.readUInt32BE(4);
  expect(ihdr.data[8]).toBe(8); // bit depth
  const bpp = { 2: 3, 6: 4 }[ihdr.data[9]]!;
  expect(bpp).toBeDefined();
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  const stride = width * bpp;
  expect(raw.length).toBe((stride + 1) * height);
  const px = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x];
      const a = x >= bpp ? px[y * stride + x - bpp] : 0;
      const b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= bpp && y > 0 ? px[(y - 1) * stride + x - bpp] : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      px[y * stride + x] = (v + [0, a, b, (a + b) >> 1, paeth][f]) & 0xff;
    }
  }
  const rgb = (x: number, y: number): [number, number, number] => [px[y * stride + x * bpp], px[y * stride + x * bpp + 1], px[y * stride + x * bpp + 2]];
  return { width, height, rgb };
}

type Png = ReturnType<typeof readPng>;
const count = (p: Png, pred: (c: [number, number, number]) => boolean, box = { x0: 0, y0: 0, x1: p.width, y1: p.height }) => {
  let n = 0;
  for (let y = box.y0; y < box.y1; y++) for (let x = box.x0; x < box.x1; x++) if (pred(p.rgb(x, y))) n++;
  return n;
};
const near = (want: [number, number, number]) => (c: [number, number, number]) => c.every((v, i) => Math.abs(v - want[i]) <= 8);
const dark = (c: [number, number, number]) => c[0] < 120 && c[1] < 120 && c[2] < 120;
/** Pixels that differ between two same-sized charts inside a box. */
const differing = (a: Png, b: Png, box: { x0: number; y0: number; x1: number; y1: number }) => {
  let n = 0;
  for (let y = box.y0; y < box.y1; y++) for (let x = box.x0; x < box.x1; x++) if (a.rgb(x, y).some((v, i) => v !== b.rgb(x, y)[i])) n++;
  return n;
};

describe('bar chart PNG', () => {
  it('is a valid PNG, 720 px wide for a phone, on a white background', () => {
    const values = [100, 92.5, 80, 61, 40, 0, 75, 100];
    const p = readPng(renderBarChart({ labels: values.map((_, i) => `科室${i + 1}`), values, target: 100, title: '学习完成率' }));
    expect(p.width).toBe(CHART_WIDTH);
    expect(p.height).toBeGreaterThan(200);
    expect(p.rgb(1, 1)).toEqual([255, 255, 255]);
  });

  it('draws a longer bar for a higher value, coloured by how far it is from the target', () => {
    const p = readPng(renderBarChart({ labels: ['内科', '外科'], values: [100, 20] }));
    const green = count(p, near([46, 158, 91]));
    const red = count(p, near([198, 40, 40]));
    expect(red).toBeGreaterThan(500);
    expect(green).toBeGreaterThan(red * 3);
  });

  it('draws the department names in Chinese on the axis: two names of the same length give different glyphs', () => {
    // With a font that lacks CJK (tried: DejaVu Sans) both names are the same row of empty boxes: 0 pixels differ.
    for (const values of [[50, 60], Array.from({ length: VERTICAL_MAX + 3 }, (_, i) => 10 * i)]) {
      const labels = values.map((_, i) => `检验${i}科`);
      const a = readPng(renderBarChart({ labels: ['心血管内科', ...labels.slice(1)], values }));
      const b = readPng(renderBarChart({ labels: ['普通外科室', ...labels.slice(1)], values }));
      const blank = readPng(renderBarChart({ labels: ['', ...labels.slice(1)], values }));
      expect([a.width, a.height]).toEqual([b.width, b.height]);
      const all = { x0: 0, y0: 0, x1: a.width, y1: a.height };
      expect(count(a, dark, all) - count(blank, dark, all)).toBeGreaterThan(150);
      expect(differing(a, b, all)).toBeGreaterThan(1000);
      // The rest of the names are the same, so only the first name's area differs.
      const horizontal = values.length > VERTICAL_MAX;
      const firstName = horizontal ? { x0: 0, y0: 0, x1: a.width / 3, y1: a.height / values.length + 20 } : { x0: 0, y0: a.height - 80, x1: a.width / 2, y1: a.height };
      expect(differing(a, b, firstName)).toBe(differing(a, b, all));
    }
  });

  it('lays many departments flat, one row each, so the chart grows downwards and keeps its width', () => {
    const chart = (n: number) => readPng(renderBarChart({ labels: Array.from({ length: n }, (_, i) => `科室${i}`), values: Array.from({ length: n }, () => 50), target: 100 }));
    const [few, twelve, forty] = [chart(3), chart(12), chart(40)];
    expect([few.width, twelve.width, forty.width]).toEqual([CHART_WIDTH, CHART_WIDTH, CHART_WIDTH]);
    expect(forty.height).toBeGreaterThan(twelve.height * 2.5);
    // Each 50% bar keeps its length and thickness however many there are: the red area grows with the count.
    const red = near([198, 40, 40]);
    expect(count(forty, red)).toBeGreaterThan(count(twelve, red) * 2.5);
  });

  it('refuses labels that do not match the values', () => {
    expect(() => renderBarChart({ labels: ['内科'], values: [1, 2] })).toThrow(/1 labels for 2 values/);
  });
});

describe('wrapLabel', () => {
  it('wraps a long name and ends a name too long for its lines with "…"', () => {
    expect(wrapLabel('药剂科', 5, 3)).toEqual(['药剂科']);
    expect(wrapLabel('耳鼻咽喉头颈外科', 5, 3)).toEqual(['耳鼻咽喉头', '颈外科']);
    expect(wrapLabel('甲状腺乳腺外科二病区门诊', 4, 2)).toEqual(['甲状腺乳', '腺外科…']);
    expect(wrapLabel('ICU 重症医学科', 7, 2)).toEqual(['ICU 重症医学', '科']);
  });
});
