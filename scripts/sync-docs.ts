/**
 * Regenerate what is derived from the options schema:
 *   schema/agent-service.schema.json and the options table in README.md.
 *   npm run docs:sync
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answersJsonSchemaText } from '../generators/app/answers-file.js';
import { syncReadme } from '../generators/app/docs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'schema'), { recursive: true });
writeFileSync(join(root, 'schema', 'agent-service.schema.json'), answersJsonSchemaText());
const readmePath = join(root, 'README.md');
writeFileSync(readmePath, syncReadme(readFileSync(readmePath, 'utf8')));
console.log('schema/agent-service.schema.json and README.md options table are in sync');
