import { describe, expect, it } from 'vitest';
import { mimeOf } from '../src/platform/mime.js';

describe('mimeOf', () => {
  it('follows the extension, whatever its case, and falls back to octet-stream', () => {
    expect(mimeOf('上缴申报-2026-12-10.xlsx')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(mimeOf('progress.PNG')).toBe('image/png');
    expect(mimeOf('photo.jpeg')).toBe('image/jpeg');
    expect(mimeOf('图片')).toBe('application/octet-stream');
    expect(mimeOf('archive.tar.unknown')).toBe('application/octet-stream');
  });
});
