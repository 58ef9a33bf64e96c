// The generated scripts/deploy.sh against fake kubectl, kustomize and curl on PATH that
// succeed or fail on cue: the rollback path is run, not assumed. The fakes keep a
// Deployment revision like the API server does (a new one per apply that changes it,
// `rollout undo --to-revision` makes the old template current again) and log every call.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveAnswers } from '../../generators/app/options.js';
import { render } from '../../generators/app/render.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const IMAGE = 'ghcr.io/acme/deploy-agent';
/** fake kubectl, kustomize and curl (bash) */
const FAKES = join(import.meta.dirname, 'fixtures', 'deploy-fakes');

let tmp: string;
let project: string;
let n = 0;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'cas-deploy-'));
  const answers = resolveAnswers([{ values: { name: 'deploy-agent', image: IMAGE }, origin: (k) => k }]);
  const tree = render(answers, { templatesDir: join(ROOT, 'templates'), generatorVersion: '0.0.0' });
  project = join(tmp, 'project');
  for (const [path, file] of tree) {
    if (!path.startsWith('scripts/') && !path.startsWith('deploy/k8s/')) continue;
    mkdirSync(dirname(join(project, path)), { recursive: true });
    writeFileSync(join(project, path), file.content, { mode: file.mode });
  }
  const bin = join(tmp, 'bin');
  mkdirSync(bin);
  for (const name of ['kubectl', 'kustomize', 'curl']) {
    writeFileSync(join(bin, name), readFileSync(join(FAKES, name)));
    chmodSync(join(bin, name), 0o755);
  }
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  code: number;
  stderr: string;
  calls: string[];
}

/** Run deploy.sh once with a fresh fake cluster; `revision` is the Deployment's revision before (null: first deploy). */
function deploy(env: Record<string, string>, revision: number | null = 3, args = ['deploy/k8s/overlays/prod', IMAGE, DIGEST]): Run {
  const state = join(tmp, `state${++n}`);
  mkdirSync(state);
  if (revision !== null) writeFileSync(join(state, 'revision'), `${revision}\n`);
  const log = join(state, 'calls.log');
  writeFileSync(log, '');
  const r = spawnSync('bash', ['scripts/deploy.sh', ...args], {
    cwd: project,
    encoding: 'utf8',
    env: { PATH: `${join(tmp, 'bin')}:${process.env.PATH}`, FAKE_LOG: log, FAKE_STATE: state, SMOKE_WAIT: '2', ...env },
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stderr: r.stderr, calls: readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) };
}
const has = (r: Run, re: RegExp) => r.calls.some((c) => re.test(c));
const undo = /^kubectl --namespace deploy-agent rollout undo deployment\/deploy-agent --to-revision=3$/;

describe('scripts/deploy.sh (fake kubectl/kustomize/curl)', () => {
  it('all ok: sets the digest, applies, waits, smoke-tests /ready and one chat turn; no undo; exit 0', () => {
    const r = deploy({});
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls).toContain(`kustomize edit set image ${IMAGE}=${IMAGE}@${DIGEST} (in prod)`);
    const order = [
      'kustomize edit set image',
      ' apply -k deploy/k8s/overlays/prod',
      ' rollout status deployment/deploy-agent --timeout=300s',
      'curl http://127.0.0.1:18080/ready',
      'curl http://127.0.0.1:18080/v1/chat',
    ];
    const at = order.map((o) => r.calls.findIndex((c) => c.includes(o)));
    expect(
      at.every((i) => i >= 0),
      r.calls.join('\n'),
    ).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(has(r, /rollout undo/)).toBe(false);
  });

  it('apply ok, rollout fails: undo to the revision before, wait for it, exit 1; no smoke test', () => {
    const r = deploy({ FAKE_ROLLOUT: 'fail' });
    expect(r.code).toBe(1);
    expect(has(r, undo), r.calls.join('\n')).toBe(true);
    const undoAt = r.calls.findIndex((c) => undo.test(c));
    expect(r.calls.slice(undoAt + 1).some((c) => c.includes('rollout status deployment/deploy-agent'))).toBe(true);
    expect(has(r, /^curl/)).toBe(false);
    expect(r.stderr).toMatch(/rollout did not complete[\s\S]*rolled back to revision 3/);
  });

  it('the chat turn fails: undo, exit 1', () => {
    const r = deploy({ FAKE_CHAT: 'fail' });
    expect(r.code).toBe(1);
    expect(has(r, undo)).toBe(true);
    expect(r.stderr).toMatch(/smoke check failed[\s\S]*rolled back/);
  });

  it('/ready never answers 200: undo, exit 1', () => {
    const r = deploy({ FAKE_READY: 'fail' });
    expect(r.code).toBe(1);
    expect(r.calls.filter((c) => c.endsWith('/ready'))).toHaveLength(2); // SMOKE_WAIT=2 tries
    expect(has(r, /\/v1\/chat/)).toBe(false);
    expect(has(r, undo)).toBe(true);
  });

  it('the rollback itself does not complete: exit 1 and says so', () => {
    const r = deploy({ FAKE_ROLLOUT: 'fail', FAKE_UNDO_ROLLOUT: 'fail' });
    expect(r.code).toBe(1);
    expect(has(r, undo)).toBe(true);
    expect(r.stderr).toMatch(/the rollback did not complete either/);
  });

  it('no undo where there is nothing to undo: a first deploy, or an apply that made no new revision', () => {
    const first = deploy({ FAKE_ROLLOUT: 'fail' }, null);
    expect(first.code).toBe(1);
    expect(has(first, /rollout undo/)).toBe(false);
    expect(first.stderr).toMatch(/first deploy/);
    const same = deploy({ FAKE_APPLY: 'nochange', FAKE_CHAT: 'fail' });
    expect(same.code).toBe(1);
    expect(has(same, /rollout undo/)).toBe(false);
    expect(same.stderr).toMatch(/no new revision/);
  });

  it('apply fails: exit 1, no rollout wait, no undo', () => {
    const r = deploy({ FAKE_APPLY: 'fail' });
    expect(r.code).toBe(1);
    expect(has(r, /rollout/)).toBe(false);
  });

  it('refuses a tag or a malformed digest before touching the cluster (exit 2)', () => {
    for (const digest of ['latest', 'sha256:abc', `${DIGEST}\n`]) {
      const r = deploy({}, 3, ['deploy/k8s/overlays/prod', IMAGE, digest]);
      expect(r.code).toBe(2);
      expect(r.calls).toEqual([]);
    }
  });
});
