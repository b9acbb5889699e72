import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CHART_HEIGHT, chartWidth, renderBarChart } from '../cards/chart-png.js';

/** A minimal independent PNG reader: signature, chunk CRCs, IHDR and the pixel data size. */
function readPng(png: Buffer) {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let off = 8;
  const chunks: { type: string; data: Buffer }[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('ascii', off + 4, off + 8);
    chunks.push({ type, data: png.subarray(off + 8, off + 8 + len) });
    off += 12 + len;
  }
  const ihdr = chunks[0];
  expect(ihdr.type).toBe('IHDR');
  expect(chunks.at(-1)!.type).toBe('IEND');
  const width = ihdr.data.readUInt32BE(0);
  const height = ihdr.data.readUInt32BE(4);
  const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  return { width, height, raw };
}

describe('bar chart PNG', () => {
  it('is a valid PNG of the expected size with one scanline per row', () => {
    const values = [100, 92.5, 80, 61, 40, 0, 75, 100];
    const { width, height, raw } = readPng(renderBarChart({ values, target: 100 }));
    expect(width).toBe(chartWidth(values.length));
    expect(height).toBe(CHART_HEIGHT);
    expect(raw.length).toBe((width * 3 + 1) * height);
  });

  it('draws a taller bar for a higher value', () => {
    const { width, raw } = readPng(renderBarChart({ values: [100, 20] }));
    const column = (x: number) => {
      let coloured = 0;
      for (let y = 0; y < CHART_HEIGHT; y++) {
        const i = y * (width * 3 + 1) + 1 + x * 3;
        if (!(raw[i] === 255 && raw[i + 1] === 255 && raw[i + 2] === 255)) coloured++;
      }
      return coloured;
    };
    const slot = (width - 60) / 2;
    expect(column(Math.round(40 + slot / 2))).toBeGreaterThan(column(Math.round(40 + slot * 1.5)) * 3);
  });
});
