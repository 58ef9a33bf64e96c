// The interactive path through a real pseudo-terminal (python3's pty module), real keystrokes.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, FIXTURE_TEMPLATES, tmp } from './helpers.js';

const DRIVER = join(import.meta.dirname, 'pty_driver.py');
const ENTER = '\r';
const DOWN = '\u001b[B';
const CTRL_C = '\u0003';

interface Step {
  expect: string;
  send?: string;
}

/** Enter at every question after the service name: each default taken. */
const DEFAULTS_AFTER_NAME: Step[] = [
  'One-line description',
  'Owner',
  'Web framework',
  'Observability',
  'Session store',
  'CI provider',
  'Kubernetes manifests',
  'Python version',
  'HTTP port',
  'Container image',
  'Ingress host',
].map((q) => ({ expect: q, send: ENTER }));
interface PtyResult {
  exit: number | null;
  signal: number | null;
  output: string;
  failed_step: number | null;
}

function drive(steps: Step[], args: string[], cwd: string, extraEnv: NodeJS.ProcessEnv = {}): PtyResult {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: cwd, CREATE_AGENT_SERVICE_TEMPLATES: FIXTURE_TEMPLATES, LANG: 'C.UTF-8', ...extraEnv };
  const out = execFileSync('python3', [DRIVER, JSON.stringify(steps), '--', process.execPath, BIN, ...args], { cwd, env, encoding: 'utf8', timeout: 60_000 });
  return JSON.parse(out) as PtyResult;
}

describe('interactive (pty)', () => {
  it('asks every question, validates inline, confirms, generates, prints next steps', () => {
    const cwd = tmp();
    const r = drive(
      [
        { expect: 'Service name', send: `Bad_Name${ENTER}` },
        { expect: 'not a DNS-1123 label', send: `${'\u007f'.repeat(8)}json${ENTER}` },
        { expect: 'would shadow', send: `${'\u007f'.repeat(4)}pty-agent${ENTER}` },
        { expect: 'One-line description', send: ENTER },
        { expect: 'Owner', send: ENTER },
        { expect: 'Web framework', send: DOWN },
        { expect: 'litestar \\(choose it for msgspec speed', send: ENTER },
        { expect: 'Observability', send: `${DOWN}${ENTER}` },
        { expect: 'Session store', send: `${DOWN}${DOWN}${ENTER}` },
        { expect: 'CI provider', send: `${DOWN}${ENTER}` },
        { expect: 'Kubernetes manifests', send: ENTER },
        { expect: 'Python version', send: `${DOWN}${DOWN}${ENTER}` },
        { expect: 'HTTP port', send: `${'\u007f'.repeat(4)}80${ENTER}` },
        { expect: 'out of range 1024..65535', send: `${'\u007f'.repeat(2)}8080${ENTER}` },
        { expect: 'Container image', send: ENTER },
        { expect: 'Ingress host', send: ENTER },
        { expect: 'Maximum replicas', send: ENTER },
        { expect: 'Summary', send: '' },
        { expect: 'Generate pty-agent into \\./pty-agent\\?', send: ENTER },
        { expect: 'Next steps', send: '' },
      ],
      ['--no-install'],
      cwd,
    );
    expect(r.failed_step, r.output).toBeNull();
    expect(r.exit, r.output).toBe(0);
    const f = JSON.parse(readFileSync(join(cwd, 'pty-agent', '.agent-service.json'), 'utf8'));
    expect(f.answers).toEqual({
      name: 'pty-agent',
      description: 'An LLM agent service',
      owner: 'acme',
      framework: 'litestar',
      observability: 'otel',
      store: 'postgres',
      ci: 'gitlab',
      k8s: 'kustomize',
      python: '3.13',
      port: 8080,
      image: 'registry.gitlab.com/acme/pty-agent', // --ci gitlab: GitLab's registry by default
      host: 'pty-agent.example.com',
      replicas: 3,
    });
    expect(existsSync(join(cwd, 'pty-agent', '.git'))).toBe(true);
    expect(r.output).toMatch(/pty-agent is ready/);
  });

  it('flags are not asked again; memory store skips the replicas question', () => {
    const cwd = tmp();
    const r = drive(
      [
        { expect: 'Service name', send: ENTER }, // initial value from DIR
        { expect: 'One-line description', send: `${'\u007f'.repeat(20)}Says "hi" & bye${ENTER}` },
        { expect: 'Owner', send: ENTER },
        { expect: 'Observability', send: ENTER },
        { expect: 'Session store', send: ENTER },
        { expect: 'Python version', send: ENTER },
        { expect: 'HTTP port', send: ENTER },
        { expect: 'Container image', send: ENTER },
        { expect: 'Ingress host', send: ENTER },
        { expect: 'Generate', send: ENTER },
        { expect: 'is ready', send: '' },
      ],
      ['svc-b', '--framework', 'litestar', '--ci', 'none', '--k8s', 'kustomize', '--no-install', '--no-git'],
      cwd,
    );
    expect(r.failed_step, r.output).toBeNull();
    expect(r.exit).toBe(0);
    expect(r.output).not.toMatch(/Web framework|CI provider|Kubernetes manifests|Maximum replicas/);
    const f = JSON.parse(readFileSync(join(cwd, 'svc-b', '.agent-service.json'), 'utf8'));
    expect(f.answers).toMatchObject({ name: 'svc-b', description: 'Says "hi" & bye', framework: 'litestar', ci: 'none', store: 'memory', replicas: 1 });
  });

  it.each([
    ['the first question', [{ expect: 'Service name', send: CTRL_C }]],
    [
      'a select',
      [
        { expect: 'Service name', send: `cc-agent${ENTER}` },
        { expect: 'One-line description', send: ENTER },
        { expect: 'Owner', send: ENTER },
        { expect: 'Web framework', send: CTRL_C },
      ],
    ],
    ['the final confirmation', [{ expect: 'Service name', send: `cc-agent${ENTER}` }, ...DEFAULTS_AFTER_NAME, { expect: 'Generate', send: CTRL_C }]],
  ])('Ctrl-C at %s: "cancelled", exit 130, nothing written', (_l, steps) => {
    const cwd = tmp();
    const r = drive(steps as Step[], ['--no-install'], cwd);
    expect(r.failed_step, r.output).toBeNull();
    expect(r.exit, r.output).toBe(130);
    expect(r.output).toMatch(/cancelled/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('answering No to the confirmation writes nothing', () => {
    const cwd = tmp();
    const r = drive(
      [{ expect: 'Service name', send: `no-agent${ENTER}` }, ...DEFAULTS_AFTER_NAME, { expect: 'Generate', send: `${'\u001b[C'}${ENTER}` }],
      ['--no-install'],
      cwd,
    );
    expect(r.exit, r.output).toBe(130);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('a non-empty DIR is refused before the first question', () => {
    const cwd = tmp();
    mkdirSync(join(cwd, 'taken'));
    writeFileSync(join(cwd, 'taken', 'notes.txt'), 'mine\n');
    const r = drive([{ expect: 'taken is not empty', send: '' }], ['taken', '--no-install'], cwd);
    expect(r.failed_step, r.output).toBeNull();
    expect(r.exit, r.output).toBe(2);
    expect(r.output).not.toMatch(/Service name|One-line description/);
  });

  it('Enter on the empty name prompt takes the name it shows', () => {
    const cwd = tmp();
    const r = drive(
      [
        { expect: 'Service name', send: ENTER },
        ...[
          'One-line description',
          'Owner',
          'Web framework',
          'Observability',
          'Session store',
          'CI provider',
          'Kubernetes manifests',
          'Python version',
          'HTTP port',
          'Container image',
          'Ingress host',
        ].map((q) => ({ expect: q, send: ENTER })),
        { expect: 'Generate my-agent into \\./my-agent\\?', send: ENTER },
        { expect: 'is ready', send: '' },
      ],
      ['--no-install', '--no-git'],
      cwd,
    );
    expect(r.failed_step, r.output).toBeNull();
    expect(r.exit, r.output).toBe(0);
    expect(r.output).not.toMatch(/must not be empty/);
    expect(JSON.parse(readFileSync(join(cwd, 'my-agent', '.agent-service.json'), 'utf8')).answers.name).toBe('my-agent');
  });

  it('Ctrl-C during the uv sync spinner: cancelled, exit 130, files kept, says to run uv sync', () => {
    const cwd = tmp();
    const bin = join(cwd, '..', `${cwd.split('/').pop()}-bin`);
    mkdirSync(bin);
    writeFileSync(join(bin, 'uv'), '#!/bin/sh\nexec sleep 30\n');
    chmodSync(join(bin, 'uv'), 0o755);
    const r = drive(
      [
        { expect: 'Service name', send: `uv-agent${ENTER}` },
        ...[
          'One-line description',
          'Owner',
          'Web framework',
          'Observability',
          'Session store',
          'CI provider',
          'Kubernetes manifests',
          'Python version',
          'HTTP port',
          'Container image',
          'Ingress host',
        ].map((q) => ({ expect: q, send: ENTER })),
        { expect: 'Generate', send: ENTER },
        { expect: 'uv sync', send: CTRL_C },
        { expect: 'run `uv sync` there', send: '' },
      ],
      ['--no-git'],
      cwd,
      { PTY_PATH: `${bin}:${process.env.PATH}` },
    );
    expect(r.failed_step, r.output).toBeNull();
    expect(r.exit, r.output).toBe(130);
    expect(r.output).toMatch(/cancelled/);
    expect(r.output).not.toMatch(/Canceled/);
    expect(r.output).toMatch(/the files are written in .*uv-agent, but the dependencies are not installed/);
    expect(existsSync(join(cwd, 'uv-agent', '.agent-service.json'))).toBe(true);
  });
});
