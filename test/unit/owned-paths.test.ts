// A new project's answers file says which files are the user's from the start, and its
// README says the same (so the drift check in CI gates the platform files only).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_OWNED_PATHS } from '../../generators/app/answers-file.js';
import { resolveAnswers } from '../../generators/app/options.js';
import { render } from '../../generators/app/render.js';
import { matchingGlob } from '../../generators/drift/glob.js';

const TEMPLATES = join(import.meta.dirname, '..', '..', 'templates');

describe('default ownedPaths', () => {
  const answers = resolveAnswers([{ values: { name: 'own-svc', ci: 'github' }, origin: (k) => k }]);
  const tree = render(answers, { templatesDir: TEMPLATES, generatorVersion: '0.0.0' });
  const text = (p: string) => tree.get(p)!.content.toString('utf8');

  it('are written into the answers file of a new project', () => {
    expect(JSON.parse(text('.agent-service.json')).ownedPaths).toEqual([...DEFAULT_OWNED_PATHS]);
  });
  it('own the scaffold and leave the platform files to check', () => {
    for (const p of ['README.md', 'pyproject.toml', 'uv.lock', `src/own_svc/agent/tools.py`, 'tests/conftest.py'])
      expect(matchingGlob(p, DEFAULT_OWNED_PATHS), p).toBeTruthy();
    const platform = [...tree.keys()].filter((p) => !matchingGlob(p, DEFAULT_OWNED_PATHS) && p !== '.agent-service.json');
    expect(platform).toEqual(expect.arrayContaining(['Dockerfile', '.dockerignore', 'compose.yaml', 'Makefile', '.github/workflows/ci.yml']));
    for (const p of platform)
      expect(p, p).toMatch(
        /^(Dockerfile|\.dockerignore|compose\.yaml|Makefile|\.github\/|\.gitlab-ci\.yml|deploy\/|scripts\/deploy\.sh$|renovate\.json$|docs\/CONTRACT\.md$)/,
      );
  });
  it('are each named in the README section on .agent-service.json, check and update', () => {
    const readme = text('README.md');
    expect(readme).toContain('## Staying in sync with the generator');
    for (const glob of DEFAULT_OWNED_PATHS) expect(readme).toContain(`\`${glob}\``);
  });
});
