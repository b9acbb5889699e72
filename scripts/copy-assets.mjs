// Copies the non-TypeScript files the code reads at run time (migrations, shipped JSON
// content, the charts' font and its licence) next to the compiled output, so `node dist/src/main.js`
// finds them.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (/\.(sql|json|ttf)$/.test(name) || name === 'OFL.txt') cpSync(p, join('dist', p));
  }
}
for (const top of ['src', 'handlers', 'cards', 'scheduler']) {
  try {
    walk(top);
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
  }
}
