// generators/app/locked-names.ts is generated (npm run names); this fails when a lock or a
// template's tests folder changed without regenerating it, so the reserved names cannot go stale.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOCKED_DISTRIBUTIONS, TEST_MODULES } from '../../generators/app/locked-names.js';
import { validateName } from '../../generators/app/options.js';

const TEMPLATES = join(import.meta.dirname, '..', '..', 'templates');

function distributionsInLocks(): string[] {
  const names = new Set<string>();
  for (const f of readdirSync(join(TEMPLATES, 'locks')).filter((x) => x.endsWith('.uv.lock')))
    for (const m of readFileSync(join(TEMPLATES, 'locks', f), 'utf8').matchAll(/\[\[package\]\]\nname = "([^"]+)"\nversion = "[^"]+"\nsource = \{ registry/g))
      names.add(m[1]!.toLowerCase().replace(/[-_.]+/g, '-'));
  return [...names].sort();
}

function testModulesInTemplates(): string[] {
  const names = new Set<string>();
  for (const layer of readdirSync(TEMPLATES)) {
    const tests = join(TEMPLATES, layer, 'tests');
    if (existsSync(tests)) for (const f of readdirSync(tests)) names.add(f.replace(/\.py(\.ejs)?$/, ''));
  }
  return [...names].sort();
}

describe('names reserved by the locks and the generated tests (generators/app/locked-names.ts)', () => {
  it('lists exactly the distributions of templates/locks (else: npm run names)', () => {
    expect(Object.keys(LOCKED_DISTRIBUTIONS).sort()).toEqual(distributionsInLocks());
    for (const modules of Object.values(LOCKED_DISTRIBUTIONS)) expect(modules.length).toBeGreaterThan(0);
  });
  it("lists exactly the module names of the templates' tests folders", () => {
    expect([...TEST_MODULES]).toEqual(testModulesInTemplates());
  });
  it.each([
    ['click', /depends on the package "click"/],
    ['idna', /depends on the package "idna"/],
    ['pydantic-core', /depends on the package "pydantic-core"/],
    ['pyyaml', /depends on the package "pyyaml"/],
    ['yaml', /shadow the module "yaml" of the locked dependency pyyaml/],
    ['dotenv', /shadow the module "dotenv" of the locked dependency python-dotenv/],
    ['google', /shadow the module "google"/],
    ['conftest', /module in the generated tests folder/],
    ['store-contract', /module in the generated tests folder/],
    ['test-api-contract', /module in the generated tests folder/],
    ['api-client', /module in the generated tests folder/],
  ])('refuses %s with the reason', (name, reason) => expect(validateName(name)).toMatch(reason));
  it('still accepts ordinary names', () => {
    for (const name of ['my-agent', 'support-bot', 'click-tracker', 'yaml-agent']) expect(validateName(name)).toBeUndefined();
  });
});
