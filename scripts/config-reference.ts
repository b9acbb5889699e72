import { writeFileSync } from 'node:fs';
import { configReference } from '../src/config-reference.js';

writeFileSync('docs/configuration.md', configReference());
console.log('docs/configuration.md written');
