import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Runs every benchmark module in bench/ (each exports `run()`), or only those named on the
 * command line. Each prints one JSON line per figure: {"name","value","unit","target"}.
 */
const here = dirname(fileURLToPath(import.meta.url));
const only = new Set(process.argv.slice(2));
const modules = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && f !== 'report.ts' && !f.startsWith('_'))
  .filter((f) => only.size === 0 || only.has(f.replace(/\.ts$/, '')))
  .sort();

let failed = 0;
for (const f of modules) {
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { run?: () => Promise<void> };
  if (typeof mod.run !== 'function') continue;
  try {
    await mod.run();
  } catch (e) {
    failed++;
    console.error(`bench ${f} failed:`, e);
  }
}
process.exit(failed ? 1 : 0);
