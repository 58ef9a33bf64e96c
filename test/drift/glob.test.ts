import { describe, expect, it } from 'vitest';
import { compileGlob, GlobError, matchesGlob, matchingGlob } from '../../generators/drift/glob.js';

describe('ownedPaths globs', () => {
  const cases: [string, string, boolean][] = [
    ['src/**/tools/*.py', 'src/my_agent/tools/search.py', true],
    ['src/**/tools/*.py', 'src/tools/search.py', true],
    ['src/**/tools/*.py', 'src/a/b/c/tools/x.py', true],
    ['src/**/tools/*.py', 'src/a/tools/sub/x.py', false],
    ['src/**/tools/*.py', 'src/a/tools/x.pyc', false],
    ['src/**/tools/*.py', 'xsrc/a/tools/x.py', false],
    ['*.md', 'README.md', true],
    ['*.md', 'docs/README.md', false],
    ['**/*.md', 'docs/README.md', true],
    ['**/*.md', 'README.md', true],
    ['deploy/grafana', 'deploy/grafana/dashboards/a.json', true],
    ['deploy/grafana/', 'deploy/grafana/a.json', true],
    ['deploy/grafana/**', 'deploy/grafana/a.json', true],
    ['deploy/grafana', 'deploy/grafana-x/a.json', false],
    ['.github/workflows/*.yml', '.github/workflows/ci.yml', true],
    ['*', '.env.example', true],
    ['Docker?ile', 'Dockerfile', true],
    ['Docker?ile', 'Docker/ile', false],
    ['{Makefile,compose.yaml}', 'compose.yaml', true],
    ['{Makefile,compose.yaml}', 'Dockerfile', false],
    ['src/*/api/{app,routes}.py', 'src/x/api/routes.py', true],
    ['tests/test_[a-c]*.py', 'tests/test_b.py', true],
    ['tests/test_[!a-c]*.py', 'tests/test_b.py', false],
    ['tests/test_[!a-c]*.py', 'tests/test_d.py', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['./README.md', 'README.md', true],
    ['file.with+regex(chars)', 'file.with+regex(chars)', true],
    ['**', 'anything/at/all', true],
  ];
  it.each(cases)('%s ~ %s -> %s', (pattern, path, want) => {
    expect(matchesGlob(path, pattern)).toBe(want);
  });

  it('reports the first matching pattern', () => {
    expect(matchingGlob('src/p/tools/a.py', ['*.md', 'src/**/tools/*.py'])).toBe('src/**/tools/*.py');
    expect(matchingGlob('x', ['*.md'])).toBeUndefined();
  });

  it('rejects an empty pattern and a dangling escape', () => {
    expect(() => compileGlob('/')).toThrow(GlobError);
    expect(() => compileGlob('a\\')).toThrow(GlobError);
  });
});
