// Golden snapshots: the complete generated tree of every preset in test/presets/, committed
// under test/snapshots/<preset>/ and compared byte for byte (content and executable bit).
// A template change shows up here as a snapshot diff to review. Refresh: npm run snapshots:update
//
// Files git itself would interpret (.gitignore, .gitattributes) are stored with a `.snap`
// suffix so the generated project's rules never apply to this repository.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAnswersText } from '../../generators/app/answers-file.js';
import { layersFor, lockProfile } from '../../generators/app/layers.js';
import { resolveAnswers } from '../../generators/app/options.js';
import { render } from '../../generators/app/render.js';
import { isCi } from '../../generators/io.js';

const ROOT = join(import.meta.dirname, '..', '..');
const TEMPLATES = join(ROOT, 'templates');
const PRESETS = join(ROOT, 'test', 'presets');
const SNAPSHOTS = join(ROOT, 'test', 'snapshots');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
const UPDATE = process.env.UPDATE_SNAPSHOTS === '1';
/** In CI a preset without a committed snapshot fails; locally it is skipped with a visible reason. */
const STRICT = isCi(process.env);

const GIT_SPECIAL = new Set(['.gitignore', '.gitattributes']);
const toSnapshotPath = (rel: string): string =>
  rel
    .split('/')
    .map((s) => (GIT_SPECIAL.has(s) ? `${s}.snap` : s))
    .join('/');

function readSnapshot(dir: string): Map<string, { content: Buffer; executable: boolean }> {
  const out = new Map<string, { content: Buffer; executable: boolean }>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const abs = join(d, e.name);
      if (e.isDirectory()) walk(abs);
      else out.set(relative(dir, abs).split('\\').join('/'), { content: readFileSync(abs), executable: (statSync(abs).mode & 0o111) !== 0 });
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

const presets = readdirSync(PRESETS)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5))
  .sort();

describe('presets cover every value of every choice option', () => {
  it('each value appears in at least one preset', async () => {
    const { OPTIONS, OPTION_KEYS } = await import('../../generators/app/options.js');
    const seen = new Map<string, Set<string>>();
    for (const p of presets) {
      const parsed = parseAnswersText(readFileSync(join(PRESETS, `${p}.json`), 'utf8'), `${p}.json`, false);
      const a = resolveAnswers([{ values: parsed.answers, origin: (k) => `${p}.json: key "${k}"` }]);
      for (const k of OPTION_KEYS) {
        if (!seen.has(k)) seen.set(k, new Set());
        seen.get(k)!.add(String(a[k]));
      }
    }
    for (const k of OPTION_KEYS) {
      const spec = OPTIONS[k];
      if (spec.kind === 'choice') expect([...seen.get(k)!].sort(), k).toEqual(spec.choices.map((c) => c.value).sort());
    }
    expect(presets.length).toBeGreaterThanOrEqual(6);
  });
});

describe.each(presets)('snapshot %s', (preset) => {
  const parsed = parseAnswersText(readFileSync(join(PRESETS, `${preset}.json`), 'utf8'), `test/presets/${preset}.json`, false);
  const answers = resolveAnswers([{ values: parsed.answers, origin: (k) => `test/presets/${preset}.json: key "${k}"` }]);
  const missing = layersFor(answers).filter((l) => !existsSync(join(TEMPLATES, l)));
  const lockMissing = existsSync(join(TEMPLATES, 'python', 'uv.lock.ejs')) && !existsSync(join(TEMPLATES, 'locks', `${lockProfile(answers)}.uv.lock`));
  const noSnapshot = !UPDATE && !STRICT && !existsSync(join(SNAPSHOTS, preset));
  const reason = missing.length
    ? `template layers not written yet: ${missing.join(', ')}`
    : lockMissing
      ? `no lock for ${lockProfile(answers)} yet`
      : noSnapshot
        ? 'no snapshot committed yet: run npm run snapshots:update, review, commit test/snapshots (CI fails instead of skipping)'
        : '';
  if (reason) console.warn(`snapshot ${preset}: SKIPPED (${reason})`);

  it.skipIf(reason !== '')(`matches test/snapshots/${preset}/ byte for byte${reason ? ` [skipped: ${reason}]` : ''}`, () => {
    const tree = render(answers, { templatesDir: TEMPLATES, generatorVersion: VERSION, ownedPaths: parsed.ownedPaths });
    const dir = join(SNAPSHOTS, preset);
    if (UPDATE) {
      rmSync(dir, { recursive: true, force: true });
      for (const [rel, f] of tree) {
        const target = join(dir, toSnapshotPath(rel));
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, f.content);
        chmodSync(target, f.mode);
      }
      // every snapshot file must be committable: nothing in it may be ignored by this repository's rules
      const ignored = spawnSync('git', ['check-ignore', '--no-index', '--stdin'], {
        cwd: ROOT,
        input: [...tree.keys()].map((rel) => relative(ROOT, join(dir, toSnapshotPath(rel)))).join('\n'),
        encoding: 'utf8',
      }).stdout;
      expect(ignored, 'snapshot files ignored by git').toBe('');
    }
    const expected = readSnapshot(dir);
    expect(expected.size, `no snapshot for ${preset}: run npm run snapshots:update and review`).toBeGreaterThan(0);
    const actualPaths = [...tree.keys()].map(toSnapshotPath).sort();
    expect(actualPaths).toEqual([...expected.keys()].sort());
    for (const [rel, f] of tree) {
      const snap = expected.get(toSnapshotPath(rel))!;
      expect(f.content.toString('utf8'), `${preset}/${rel}`).toBe(snap.content.toString('utf8'));
      expect(f.content.equals(snap.content), `${preset}/${rel} bytes`).toBe(true);
      expect((f.mode & 0o111) !== 0, `${preset}/${rel} executable bit`).toBe(snap.executable);
    }
  });
});
