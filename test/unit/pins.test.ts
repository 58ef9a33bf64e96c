// templates/_pins.json is the one source of every version the templates emit:
// no template may write a version itself, every pinned reference in the output of
// every preset comes from the file, and this repository's own workflow pins the
// same action versions.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAnswersText } from '../../generators/app/answers-file.js';
import { resolveAnswers } from '../../generators/app/options.js';
import { loadPins, type Pins, pinHelpers } from '../../generators/app/pins.js';
import { render } from '../../generators/app/render.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TEMPLATES = join(ROOT, 'templates');
const pins: Pins = loadPins(TEMPLATES);

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/**
 * Hard-coded versions in one template's text: a full commit SHA, a `uses: x@ref`,
 * an image reference with a version-like tag, a `*_VERSION:` or `*-version:`/`*-release:`
 * value. Text inside `<% %>` is the template reading the pins file and is not looked at.
 */
function hardCodedVersions(text: string): string[] {
  const plain = text.replace(/<%[\s\S]*?%>/g, '<%%>');
  const found: string[] = [];
  const rules: RegExp[] = [
    /\b[0-9a-f]{40}\b/g,
    /\buses:\s*[\w.-]+\/[\w./-]+@[^\s<]+/g,
    /(?:\bimage:|\bname:|\bFROM|_IMAGE=|docker run[^\n]*?)\s*"?[a-z0-9][a-z0-9.-]*(?::\d+)?(?:\/[a-z0-9._-]+)*:[A-Za-z0-9._-]*\d[A-Za-z0-9._-]*/g,
    /\b[A-Z][A-Z0-9]*_VERSION:\s*"?v?\d[^\s"]*/g,
    /\b[a-z]+-(?:version|release):\s*"?v?\d[^\s"]*/g,
    /\brev:\s*"?v?\d[^\s"]*/g,
  ];
  for (const rule of rules) for (const m of plain.matchAll(rule)) found.push(m[0].trim());
  return found;
}

describe('the pins file', () => {
  it('every action by full SHA and release tag, every image by exact tag, each with its release date', () => {
    expect(Object.keys(pins.actions).length).toBeGreaterThanOrEqual(13);
    for (const a of Object.values(pins.actions)) {
      expect(a.sha).toMatch(/^[0-9a-f]{40}$/);
      expect(a.version).toMatch(/^v\d+\.\d+\.\d+$/);
      expect(a.released).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    for (const i of Object.values(pins.images)) expect(i.tag).not.toMatch(/^(latest|\d+)$|^\{python\}$/);
  });

  it('is written one entry per line, as the regex managers in renovate.json expect', () => {
    const text = readFileSync(join(TEMPLATES, '_pins.json'), 'utf8');
    for (const [name, a] of Object.entries(pins.actions)) {
      expect(text).toContain(`"${name}": { "version": "${a.version}", "sha": "${a.sha}", "released": "${a.released}" }`);
    }
    for (const [key, i] of Object.entries(pins.images))
      expect(text).toContain(`"${key}": { "image": "${i.image}", "tag": "${i.tag}", "released": "${i.released}", "datasource": "${i.datasource}"`);
    for (const [key, t] of Object.entries(pins.tools)) {
      expect(text).toContain(`"${key}": { "version": "${t.version}", "released": "${t.released}", "datasource": "${t.datasource}", "package": "${t.package}"`);
    }
  });

  it("renovate.json's regex managers match every entry of the file (so every pin gets its update PRs)", () => {
    const text = readFileSync(join(TEMPLATES, '_pins.json'), 'utf8');
    const renovate = JSON.parse(readFileSync(join(ROOT, 'renovate.json'), 'utf8')) as {
      customManagers: { managerFilePatterns: string[]; matchStrings: string[] }[];
    };
    // managers in order: actions, images, tools
    expect(renovate.customManagers).toHaveLength(3);
    const matched = renovate.customManagers.map((m) => {
      expect(m.managerFilePatterns).toContain('/^templates/_pins\\.json$/');
      return [...text.matchAll(new RegExp(m.matchStrings[0]!, 'g'))].map((hit) => `${hit.groups!.depName!} ${hit.groups!.currentValue!}`);
    });
    expect(matched[0]!.sort()).toEqual(
      Object.entries(pins.actions)
        .map(([name, a]) => `${name} ${a.version}`)
        .sort(),
    );
    const literalImages = Object.values(pins.images).filter((i) => !i.tag.includes('{'));
    expect(matched[1]!.sort()).toEqual(literalImages.map((i) => `${i.image} ${i.tag}`).sort());
    expect(matched[2]!.sort()).toEqual(
      Object.values(pins.tools)
        .map((t) => `${t.package} ${t.version}`)
        .sort(),
    );
  });

  it('the ruff pre-commit hook is the ruff version every lock file holds', () => {
    const locks = readdirSync(join(TEMPLATES, 'locks')).filter((f) => f.endsWith('.uv.lock'));
    expect(locks.length).toBeGreaterThan(0);
    for (const f of locks) {
      const ruff = /\[\[package\]\]\nname = "ruff"\nversion = "([^"]+)"/.exec(readFileSync(join(TEMPLATES, 'locks', f), 'utf8'));
      expect(`v${ruff?.[1]}`, f).toBe(pins.tools['ruff-pre-commit']!.version);
    }
  });

  it('an unknown pin is a render error naming it, not a silent default', () => {
    const p = pinHelpers(pins, '3.12');
    expect(() => p.action('actions/cache')).toThrow(/action "actions\/cache" is not pinned/);
    expect(() => p.image('nginx')).toThrow(/image "nginx" is not pinned/);
    expect(p.image('uv')).toBe(`ghcr.io/astral-sh/uv:${pins.tools.uv!.version}`);
    expect(p.image('python')).toBe('python:3.12-slim-bookworm');
  });
});

describe('no template hard-codes a version', () => {
  it('the scanner finds each kind of hard-coded version (so a clean result means something)', () => {
    expect(hardCodedVersions('      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2')).toHaveLength(2);
    expect(hardCodedVersions('    image: prom/prometheus:v3.1.0\n    image: <%= pin.image("grafana") %>')).toEqual(['image: prom/prometheus:v3.1.0']);
    expect(hardCodedVersions('ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9')).toEqual(['_IMAGE=ghcr.io/astral-sh/uv:0.13.9']);
    expect(hardCodedVersions('    - name: postgres:17-alpine\n      alias: postgres')).toEqual(['name: postgres:17-alpine']);
    expect(hardCodedVersions('  UV_VERSION: "0.13.9"\n          node-version: "22"')).toEqual(['UV_VERSION: "0.13.9', 'node-version: "22']);
    expect(hardCodedVersions('docker run --rm registry.local:5000/x/gitleaks:v8.30.1 git')).toHaveLength(1);
    expect(hardCodedVersions('  - repo: https://github.com/astral-sh/ruff-pre-commit\n    rev: v0.17.6')).toEqual(['rev: v0.17.6']);
    // not versions: the service's own image and ports, names without tags, template expressions
    expect(hardCodedVersions('    image: <%= image %>:local\n      - name: http\n    name: <%= name %>\n      - "127.0.0.1:8000:8000"')).toEqual([]);
  });

  it('templates/** (every layer, every slot) reads versions from the pins file', () => {
    const offenders: string[] = [];
    for (const file of walk(TEMPLATES)) {
      const rel = relative(TEMPLATES, file);
      // the lock files pin Python packages (npm run locks), Python sources pin nothing
      if (rel === '_pins.json' || rel.startsWith('locks/') || rel.endsWith('.py') || rel.endsWith('.lock')) continue;
      for (const hit of hardCodedVersions(readFileSync(file, 'utf8'))) offenders.push(`${rel}: ${hit}`);
    }
    expect(offenders).toEqual([]);
  });

  it('every pinned reference in the output of every preset is a pin from the file', () => {
    const presets = readdirSync(join(ROOT, 'test', 'presets')).filter((f) => f.endsWith('.json'));
    expect(presets.length).toBeGreaterThan(0);
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
    for (const preset of presets) {
      const parsed = parseAnswersText(readFileSync(join(ROOT, 'test', 'presets', preset), 'utf8'), preset, false);
      const answers = resolveAnswers([{ values: parsed.answers, origin: (k) => `${preset}: key "${k}"` }]);
      const p = pinHelpers(pins, answers.python);
      const allowedActions = new Set(Object.keys(pins.actions).map((n) => p.action(n)));
      const allowedImages = new Set(Object.keys(pins.images).map((k) => p.image(k)));
      const tree = render(answers, { templatesDir: TEMPLATES, generatorVersion: version });
      for (const [path, file] of tree) {
        if (!/(\.ya?ml|Dockerfile)$/.test(path)) continue;
        const text = file.content.toString('utf8');
        for (const m of text.matchAll(/\buses:\s*(\S+ # \S+)/g)) expect(allowedActions, `${preset} ${path}`).toContain(m[1]);
        for (const m of text.matchAll(/(?:^\s*(?:- )?(?:image|name):|_IMAGE=)\s*"?([a-z0-9][\w.-]*(?::\d+)?(?:\/[\w.-]+)*:[\w.-]*\d[\w.-]*)"?\s*$/gm)) {
          if (m[1]!.startsWith(`${answers.image}:`)) continue; // the service's own image
          expect(allowedImages, `${preset} ${path}`).toContain(m[1]);
        }
      }
    }
  });
});

describe("this repository's own workflows", () => {
  it('pin the same action versions as the pins file (Renovate moves both)', () => {
    const dir = join(ROOT, '.github', 'workflows');
    const seen: string[] = [];
    for (const f of readdirSync(dir)) {
      for (const m of readFileSync(join(dir, f), 'utf8').matchAll(/\buses:\s*([\w.-]+\/[\w.-]+)@(\S+) # (\S+)/g)) {
        const [, name, sha, tag] = m;
        const pin = pins.actions[name!];
        expect(pin, `${f}: ${name} is not in templates/_pins.json`).toBeDefined();
        expect({ name, sha, tag }).toEqual({ name, sha: pin!.sha, tag: pin!.version });
        seen.push(name!);
      }
    }
    expect(seen.length).toBeGreaterThan(0);
  });
});
