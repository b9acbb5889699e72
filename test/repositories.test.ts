import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_ROSTER } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { importRosterFile } from '../src/domain/roster.js';
import { bound, createRepositories } from '../src/store/repositories.js';
import { BACKENDS, freshDb } from './helpers/db.js';

describe('bound', () => {
  it('gives the first argument to each function and leaves constants and classes out', async () => {
    class Refusal extends Error {}
    const seen: unknown[][] = [];
    const module = {
      LIMIT: 3,
      Refusal,
      find: (db: { name: string }, id: string) => (seen.push([db.name, id]), `${db.name}:${id}`),
    };
    const repo = bound({ name: 'db1' }, module);
    expect(repo.find('42')).toBe('db1:42');
    expect(seen).toEqual([['db1', '42']]);
    expect(Object.keys(repo)).toEqual(['find']);
  });
});

for (const backend of BACKENDS) {
  describe(`repositories on ${backend}`, () => {
    let db: Awaited<ReturnType<typeof freshDb>>;
    beforeAll(async () => {
      db = await freshDb(backend, `repositories_${backend}`);
      await importRosterFile(db, SAMPLE_ROSTER, readFileSync(SAMPLE_ROSTER));
    });
    afterAll(async () => {
      await db.dispose();
    });

    it('reach the same rows as the store functions, without the caller holding the Db', async () => {
      const { settings } = loadConfig({ CONFIG_FILE: '/nonexistent/qinglian.yaml' });
      const repos = createRepositories(db, { settings, timeZone: 'Asia/Shanghai' });
      const s = await repos.staff.getStaff('S0001');
      expect(s?.staffId).toBe('S0001');
      expect((await repos.staff.listDepartments()).length).toBeGreaterThan(1);
      expect(await repos.declarations.listByDeclarant('S0001')).toEqual([]);
      const d = await repos.declarations.createDraft(s!, { kind: 'cash', amount: '100.00', receivedOn: '2026-11-20', giver: 'patient', handling: 'refused', description: '' });
      expect((await repos.declarations.getDeclaration(d.id))?.declarantId).toBe('S0001');
      // The progress figures take the settings and zone as well: bound once, here.
      expect(await repos.progress.ownDeclarationCounts('S0001')).toEqual(expect.any(Array));
      expect((await repos.progress.overview({ year: 2026, month: 11 })).study).toBeDefined();
    });
  });
}
