// What is generated from the options schema must be committed in sync (npm run docs:sync).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { answersJsonSchemaText } from '../../generators/app/answers-file.js';
import { syncReadme } from '../../generators/app/docs.js';

const ROOT = join(import.meta.dirname, '..', '..');

describe('generated docs are in sync (run `npm run docs:sync` to fix)', () => {
  it('schema/agent-service.schema.json equals the schema generated from OPTIONS', () => {
    expect(readFileSync(join(ROOT, 'schema', 'agent-service.schema.json'), 'utf8')).toBe(answersJsonSchemaText());
  });
  it('README.md options table equals the table generated from OPTIONS', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toBe(syncReadme(readme));
  });
  it('README has the two fresh-clone commands and the sections others fill', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('npm create agent-service@latest my-agent');
    expect(readme).toContain('npm ci && npm start -- my-agent --yes');
    expect(readme).toContain('npm test');
    expect(readme).toMatch(/^## Verification pipeline$/m);
    expect(readme).toMatch(/^## Benchmarks$/m);
  });
});
