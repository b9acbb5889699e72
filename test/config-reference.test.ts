import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envSchema } from '../src/config.js';
import { configReference, ENV_HELP } from '../src/config-reference.js';

describe('the configuration reference', () => {
  it('documents every environment variable', () => {
    expect(Object.keys(envSchema.shape).filter((k) => !ENV_HELP[k])).toEqual([]);
  });

  it('is the file in docs/, regenerated (run `npm run docs:config` after changing src/config.ts)', () => {
    expect(readFileSync('docs/configuration.md', 'utf8')).toBe(configReference());
  });
});
