// The CLI spawned as a real process (dist bundle), non-interactively, against a small fixture template set.
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cli, FIXTURE_TEMPLATES, tmp, treeHashes } from './helpers.js';

const VERSION = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')).version as string;
const QUIET = ['--no-git', '--no-install'];

/** Invalid input: exit 2, exactly one line on stderr matching `message`, nothing on disk. */
function refused(args: string[], message: RegExp, setup?: (cwd: string) => void): void {
  const cwd = tmp();
  setup?.(cwd);
  const before = readdirSync(cwd).sort();
  const r = cli([...args, ...QUIET], { cwd });
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^error: /);
  expect(r.code).toBe(2);
  expect(readdirSync(cwd).sort()).toEqual(before);
}

describe('help and version', () => {
  it('--help lists every option and exits 0', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--name',
      '--framework',
      '--observability',
      '--store',
      '--ci',
      '--k8s',
      '--python',
      '--port',
      '--description',
      '--image',
      '--owner',
      '--host',
      '--replicas',
      '--yes',
      '--answers',
      '--preset',
      '--dry-run',
      '--force',
      '--no-install',
      '--no-git',
      '--help',
      '--version',
    ])
      expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('litestar');
  });
  it('--version prints the package version', () => {
    expect(cli(['--version']).stdout.trim()).toBe(VERSION);
  });
});

describe('invalid input: one line, exit 2, nothing written', () => {
  it.each([
    ['uppercase', 'My-Agent', /not a DNS-1123 label/],
    ['underscore', 'my_agent', /not a DNS-1123 label/],
    ['leading dash', '-agent', /a value is required \(for a value starting with "-"/],
    ['trailing dash', 'agent-', /not a DNS-1123 label/],
    ['leading digit', '1agent', /not a DNS-1123 label/],
    ['dot', 'my.agent', /not a DNS-1123 label/],
    ['too long', 'a'.repeat(41), /at most 40 characters/],
    ['python keyword', 'class', /Python keyword/],
    ['soft keyword', 'match', /Python keyword/],
    ['stdlib shadowing', 'json', /shadow the Python module/],
    ['stdlib shadowing with dash', 'py-compile', /Python package "py_compile" would shadow/],
    ['test', 'test', /shadow/],
    ['a dependency', 'fastapi', /shadow/],
  ])('--name %s', (_label, name, message) => refused(['--name', name, '--yes'], new RegExp(`--name: .*${message.source}`)));

  it('a DIR whose basename is not a valid name names the DIR argument', () => refused(['My Agent', '--yes'], /DIR argument "My Agent".*not a DNS-1123 label/));

  it('missing name in non-interactive mode names the flag', () => refused(['--yes'], /missing service name: pass DIR or --name NAME/));

  it.each([
    ['--framework', 'django', /--framework: "django" is not one of fastapi, litestar/],
    ['--observability', 'datadog', /is not one of prometheus, otel, minimal/],
    ['--store', 'mysql', /--store: "mysql" is not one of memory, redis, postgres/],
    ['--ci', 'jenkins', /is not one of github, gitlab, none/],
    ['--k8s', 'helm', /is not one of kustomize, none/],
    ['--python', '3.10', /--python: "3.10" is not one of 3.12, 3.11, 3.13/],
    ['--port', '80', /--port: 80 is out of range 1024..65535 \(the container runs as non-root/],
    ['--port', '70000', /out of range/],
    ['--port', '8k', /not a whole number/],
    ['--replicas', '0', /out of range 1..100/],
    ['--owner', 'Acme Corp', /--owner: "Acme Corp" is not a lowercase owner name/],
    ['--owner', 'acme\n  evil: true', /--owner: .*is not a lowercase owner name/],
    ['--image', 'ghcr.io/acme/x:latest', /--image: .*without tag/],
    ['--image', 'GHCR.io/acme/x', /--image/],
    ['--host', 'bad_host.example.com', /--host: .*not a lowercase DNS name/],
    ['--host', 'x.com\nspec: {}', /--host/],
    // validated against the rules of the place each value lands
    ['--owner', 'a/b/c', /default image \(from --owner, .*ghcr\.io\/<owner>\/<repository>.*needs --image on another registry/],
    ['--image', 'ghcr.io', /--image: "ghcr\.io" is a registry host without an image path/],
    ['--image', 'registry.local:99999/x', /--image: registry port 99999 is out of range 1\.\.65535/],
    ['--image', `${'r'.repeat(64)}.example.com/x`, /--image: registry host .*longer than 63/],
    ['--image', 'ghcr.io/acme/team/agent', /--image: .*ghcr\.io\/<owner>\/<repository>.*got 3 path segments/],
    ['--host', '1.2.3.4', /--host: "1\.2\.3\.4" is an IP address/],
    ['--host', `${'a'.repeat(64)}.example.com`, /--host: .*DNS label of 64 characters; at most 63/],
    ['--host', `${'a.'.repeat(124)}com`, /--host: must be at most 249 characters.*dev\.<host>/],
  ])('%s %j', (flag, value, message) => refused(['svc', flag, value, '--yes'], message));

  it.each([
    ['click', /depends on the package "click"/],
    ['yaml', /shadow the module "yaml" of the locked dependency pyyaml/],
    ['conftest', /module in the generated tests folder/],
  ])('--name %s: a locked dependency or test module, with the reason', (name, message) =>
    refused(['--name', name, '--yes'], new RegExp(`--name: .*${message.source}`)),
  );

  it.each([
    ['newline', 'line one\nline: two', /--description: must be a single line/],
    ['carriage return', 'a\rb', /single line/],
    ['unicode line separator', 'a\u2028b', /single line/],
    ['control char', 'a\u0007b', /control characters/],
    ['bidi override', 'a\u202eb', /bidirectional/],
    ['Arabic letter mark', 'a\u061cb', /format characters: found U\+061C/],
    ['soft hyphen', 'a\u00adb', /found U\+00AD/],
    ['word joiner', 'a\u2060b', /found U\+2060/],
    ['tag character', 'a\u{e0041}b', /found U\+E0041/],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text is the hostile input
    ['GitHub expression', 'x ${{ secrets.TOKEN }}', /must not contain "\$"/],
    ['shell expansion', '$(rm -rf ~)', /must not contain "\$"/],
    ['backtick', '`id`', /"`"/],
    ['template braces', '{{ .Values.x }}', /"\{\{"/],
    ['too long', 'x'.repeat(201), /at most 200 characters/],
    ['empty', '', /must not be empty/],
  ])('--description with %s', (_l, value, message) => refused(['svc', '--description', value, '--yes'], message));

  it('impossible combination: memory store with several replicas, with the reason', () =>
    refused(['svc', '--store', 'memory', '--replicas', '3', '--yes'], /--store, --replicas: .*sessions would not be shared between pods/));

  it('the same combination coming from a preset names the preset key', () =>
    refused(['svc', '--preset', 'p.json', '--yes'], /p\.json: key "replicas".*sessions would not be shared/, (cwd) =>
      writeFileSync(join(cwd, 'p.json'), JSON.stringify({ replicas: 4 })),
    ));

  it('unknown option', () => refused(['svc', '--frobnicate', '--yes'], /unknown option --frobnicate/));
  it('option without its value', () => refused(['svc', '--yes', '--store'], /--store: a value is required/));
  it('option followed by another option', () => refused(['svc', '--store', '--yes'], /--store: a value is required/));
  it('two DIR arguments', () => refused(['a', 'b', '--yes'], /unexpected argument "b"/));
  it('--answers with --preset', () => refused(['a', '--answers', 'x', '--preset', 'y'], /cannot be combined/));

  it.each([
    ['not JSON', '{"answers": ', /p\.json: not valid JSON/],
    ['not an object', '[1,2]', /p\.json: expected a JSON object/],
    ['unknown key', '{"stor": "redis"}', /p\.json: unknown key "stor" \(valid keys: name, /],
    ['bad value', '{"store": "mysql"}', /p\.json: key "store": "mysql" is not one of memory, redis, postgres/],
    ['wrong type', '{"port": "8000x"}', /p\.json: key "port": "8000x" is not a whole number/],
    ['wrong type (number for a choice)', '{"python": 3.12}', /p\.json: key "python": 3.12 is not one of/],
    ['file shape, bad answers', '{"answers": {"framework": "flask"}}', /p\.json: key "framework": "flask" is not one of fastapi, litestar/],
    ['file shape, bad ownedPaths', '{"answers": {}, "ownedPaths": ["../etc"]}', /p\.json: key "ownedPaths\[0\]": .*relative glob/],
    ['file shape, unknown top-level key', '{"answers": {}, "extra": 1}', /p\.json: unknown key "extra"/],
    ['injection via preset', '{"description": "a\\nb: c"}', /p\.json: key "description": must be a single line/],
  ])('malformed preset: %s', (_l, text, message) =>
    refused(['svc', '--preset', 'p.json', '--yes'], message, (cwd) => writeFileSync(join(cwd, 'p.json'), text)),
  );

  it.each([['--preset'], ['--answers']])('%s /dev/zero: bounded read, one line, exit 2', (flag) =>
    refused(['svc', flag, '/dev/zero', ...(flag === '--preset' ? ['--yes'] : [])], new RegExp(`${flag} /dev/zero: larger than 1024 KiB`)),
  );
  it('a preset over 1 MiB is refused before parsing', () =>
    refused(['svc', '--preset', 'big.json', '--yes'], /--preset big\.json: larger than 1024 KiB/, (cwd) =>
      writeFileSync(join(cwd, 'big.json'), `{"description": "${'x'.repeat(1 << 20)}"}`),
    ));
  it('a preset name that disagrees with DIR is refused, naming both', () =>
    refused(['svc', '--preset', 'p.json', '--yes'], /p\.json: key "name" is "other" but DIR argument "svc" names the service "svc": pass --name/, (cwd) =>
      writeFileSync(join(cwd, 'p.json'), JSON.stringify({ name: 'other' })),
    ));

  it('missing preset file', () => refused(['svc', '--preset', 'nope.json', '--yes'], /--preset nope\.json: cannot read the file \(no such file\)/));

  it.each([
    ['missing answers key', '{"generatorVersion": "0.1.0"}', /a\.json: key "answers" is missing/],
    ['incomplete answers', '{"generatorVersion": "0.1.0", "answers": {"name": "svc"}}', /a\.json: key "description" is missing/],
    ['missing version', '{"answers": {}}', /a\.json: key "generatorVersion" is missing/],
  ])('malformed answers file: %s', (_l, text, message) => refused(['svc', '--answers', 'a.json'], message, (cwd) => writeFileSync(join(cwd, 'a.json'), text)));

  it('non-empty DIR without --force', () =>
    refused(['svc', '--yes'], /DIR argument: .*svc is not empty \(pass --force/, (cwd) => {
      mkdirSync(join(cwd, 'svc'));
      writeFileSync(join(cwd, 'svc', 'notes.txt'), 'mine\n');
    }));

  it('DIR below a file: clean message, exit 2', () =>
    refused(['afile/sub', '--yes'], /DIR argument: .*afile is a file, so .*afile\/sub cannot be created/, (cwd) => writeFileSync(join(cwd, 'afile'), 'x')));
  it('DIR that is a file', () => refused(['svc', '--yes'], /exists and is not a directory/, (cwd) => writeFileSync(join(cwd, 'svc'), 'x')));
});

describe('generation', () => {
  it('generates into DIR, name from its basename, executable bits kept, answers file written', () => {
    const cwd = tmp();
    const r = cli(['my-agent', '--yes', ...QUIET], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const dir = join(cwd, 'my-agent');
    expect(statSync(join(dir, 'run.sh')).mode & 0o777).toBe(0o755);
    expect(statSync(join(dir, 'README.md')).mode & 0o777).toBe(0o644);
    expect(existsSync(join(dir, 'src', 'my_agent', '__init__.py'))).toBe(true);
    expect(existsSync(join(dir, 'empty.txt'))).toBe(false);
    const file = JSON.parse(readFileSync(join(dir, '.agent-service.json'), 'utf8'));
    expect(Object.keys(file)).toEqual(['$schema', 'generatorVersion', 'answers', 'ownedPaths']);
    expect(file.generatorVersion).toBe(VERSION);
    expect(file.answers).toEqual({
      name: 'my-agent',
      description: 'An LLM agent service',
      owner: 'acme',
      framework: 'fastapi',
      observability: 'prometheus',
      store: 'memory',
      ci: 'github',
      k8s: 'kustomize',
      python: '3.12',
      port: 8000,
      image: 'ghcr.io/acme/my-agent',
      host: 'my-agent.example.com',
      replicas: 1,
    });
    expect(file.ownedPaths).toEqual([
      'src/**',
      'tests/**',
      'evals/**',
      'README.md',
      'pyproject.toml',
      'uv.lock',
      '.python-version',
      '.env.example',
      '.gitignore',
      '.pre-commit-config.yaml',
    ]);
    expect(r.stdout).toMatch(/Next steps:/);
  });

  it('--name without DIR generates into ./NAME; defaults follow other answers', () => {
    const cwd = tmp();
    expect(cli(['--name', 'svc-a', '--owner', 'team-x', '--store', 'redis', '--yes', ...QUIET], { cwd }).code).toBe(0);
    const a = JSON.parse(readFileSync(join(cwd, 'svc-a', '.agent-service.json'), 'utf8')).answers;
    expect(a.image).toBe('ghcr.io/team-x/svc-a');
    expect(a.replicas).toBe(3);
  });

  it('precedence: flags > preset > defaults; the preset ownedPaths are recorded', () => {
    const cwd = tmp();
    writeFileSync(join(cwd, 'team.json'), JSON.stringify({ answers: { owner: 'platform', store: 'postgres', ci: 'gitlab' }, ownedPaths: ['docs/**'] }));
    expect(cli(['svc', '--preset', 'team.json', '--ci', 'none', '--yes', ...QUIET], { cwd }).code).toBe(0);
    const f = JSON.parse(readFileSync(join(cwd, 'svc', '.agent-service.json'), 'utf8'));
    expect(f.answers).toMatchObject({ owner: 'platform', store: 'postgres', ci: 'none', framework: 'fastapi', image: 'ghcr.io/platform/svc', replicas: 3 });
    expect(f.ownedPaths).toEqual(['docs/**']);
    expect(existsSync(join(cwd, 'svc', '.gitlab-ci.yml'))).toBe(false);
  });

  it('--dry-run prints every path with its size and writes nothing', () => {
    const cwd = tmp();
    const r = cli(['svc', '--yes', '--dry-run'], { cwd });
    expect(r.code).toBe(0);
    expect(readdirSync(cwd)).toEqual([]);
    expect(r.stdout).toMatch(/^\s*\d+ {2}\.agent-service\.json$/m);
    expect(r.stdout).toMatch(/^\s*\d+ {2}run\.sh {2}\(executable\)$/m);
    expect(r.stdout).toMatch(/dry run: \d+ files, \d+ bytes would be written to svc; nothing written/);
  });

  it('--force: conflicts reported and overwritten, files we do not generate untouched', () => {
    const cwd = tmp();
    const dir = join(cwd, 'svc');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine\n');
    writeFileSync(join(dir, 'README.md'), 'local edit\n');
    const r = cli(['svc', '--yes', '--force', ...QUIET], { cwd });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^conflict: README\.md existed and differed; overwritten \(--force\)$/m);
    expect(readFileSync(join(dir, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toMatch(/^# svc/);
    // a second --force run finds everything identical: no conflicts
    const again = cli(['svc', '--yes', '--force', ...QUIET], { cwd });
    expect(again.stderr).toBe('');
  });

  it('--force never follows a symbolic link out of DIR', () => {
    const cwd = tmp();
    const outside = tmp();
    mkdirSync(join(cwd, 'svc'));
    symlinkSync(outside, join(cwd, 'svc', 'src'));
    const r = cli(['svc', '--yes', '--force', ...QUIET], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/symbolic link/);
    expect(readdirSync(outside)).toEqual([]);
    expect(readdirSync(join(cwd, 'svc'))).toEqual(['src']);
  });

  it('a failing template leaves the disk untouched (exit 1)', () => {
    const cwd = tmp();
    const templates = tmp();
    cpSync(join(import.meta.dirname, '..', 'unit', 'fixtures', 'templates'), templates, { recursive: true });
    writeFileSync(join(templates, 'compose', 'zz-broken.txt.ejs'), '<%= notDefined.x %>\n');
    const r = cli(['svc', '--yes', ...QUIET], { cwd, templates });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/template compose\/zz-broken\.txt\.ejs failed to render/);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('git init makes a first commit with a fixed identity and no user config', () => {
    const cwd = tmp();
    const home = tmp();
    const r = cli(['svc', '--yes', '--no-install'], { cwd, env: { HOME: home, XDG_CONFIG_HOME: home } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/git repository initialised/);
    const log = execFileSync('git', ['log', '--format=%an <%ae>|%s'], { cwd: join(cwd, 'svc'), encoding: 'utf8', env: { PATH: process.env.PATH, HOME: home } });
    expect(log.trim()).toBe(`create-agent-service <create-agent-service@users.noreply.github.com>|Initial commit from create-agent-service ${VERSION}`);
    const status = execFileSync('git', ['status', '--porcelain'], { cwd: join(cwd, 'svc'), encoding: 'utf8', env: { PATH: process.env.PATH, HOME: home } });
    expect(status).toBe('');
  });

  it("the first commit is the user's own when git knows who they are", () => {
    const cwd = tmp();
    const home = tmp();
    writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = Ada Lovelace\n\temail = ada@example.org\n');
    const r = cli(['svc', '--yes', '--no-install'], { cwd, env: { HOME: home, XDG_CONFIG_HOME: join(home, '.config') } });
    expect(r.code, r.stderr).toBe(0);
    const log = execFileSync('git', ['log', '--format=%an <%ae>|%cn <%ce>'], {
      cwd: join(cwd, 'svc'),
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: home },
    });
    expect(log.trim()).toBe('Ada Lovelace <ada@example.org>|Ada Lovelace <ada@example.org>');
  });

  it('next steps: cd shell-quoted for a DIR with spaces, no cd when DIR is .', () => {
    const cwd = tmp();
    const spaced = cli(["my dir/it's here", '--name', 'svc', '--yes', ...QUIET], { cwd });
    expect(spaced.code, spaced.stderr).toBe(0);
    expect(spaced.stdout).toContain(`  cd 'my dir/it'\\''s here'\n`);
    const here = join(cwd, 'here');
    mkdirSync(here);
    const dot = cli(['.', '--name', 'svc', '--yes', ...QUIET], { cwd: here });
    expect(dot.code, dot.stderr).toBe(0);
    expect(dot.stdout).toMatch(/Next steps:\n {2}uv sync\n/);
    expect(dot.stdout).not.toMatch(/\bcd\b/);
  });

  it('Ctrl-C during uv sync (--yes): cancelled, exit 130, files kept, says to run uv sync', async () => {
    const cwd = tmp();
    const bin = tmp();
    const marker = join(bin, 'started');
    // a uv that says it started, then waits to be interrupted
    writeFileSync(join(bin, 'uv'), `#!/bin/sh\n: > '${marker}'\nexec sleep 30\n`);
    chmodSync(join(bin, 'uv'), 0o755);
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [BIN, 'svc', '--yes', '--no-git'], {
      cwd,
      env: { PATH: `${bin}:${process.env.PATH}`, HOME: cwd, CI: 'true', CREATE_AGENT_SERVICE_TEMPLATES: FIXTURE_TEMPLATES },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 200 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(marker)).toBe(true);
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    expect(code).toBe(130);
    expect(stderr).toMatch(/^cancelled\nthe files are written in .*svc, but the dependencies are not installed: run `uv sync` there\n$/);
    expect(existsSync(join(cwd, 'svc', '.agent-service.json'))).toBe(true);
  });

  it('without uv on PATH, a clear hint instead of a failure', () => {
    const cwd = tmp();
    const bin = tmp();
    const r = cli(['svc', '--yes', '--no-git'], { cwd, env: { PATH: bin } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/uv not found on PATH: install it .*then run `uv sync`/);
  });
});

describe('answers file round trip and determinism', () => {
  it('--answers replays exactly: identical bytes', () => {
    const cwd = tmp();
    expect(
      cli(['first', '--yes', '--framework', 'litestar', '--store', 'redis', '--ci', 'gitlab', '--description', 'Quotes "x" and \'y\' \\ ok', ...QUIET], { cwd })
        .code,
    ).toBe(0);
    const r = cli(['second', '--answers', 'first/.agent-service.json', ...QUIET], { cwd });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(treeHashes(join(cwd, 'second'))).toEqual(treeHashes(join(cwd, 'first')));
  });

  it('an answers file from another generator version: warning, still generated', () => {
    const cwd = tmp();
    expect(cli(['first', '--yes', ...QUIET], { cwd }).code).toBe(0);
    const f = JSON.parse(readFileSync(join(cwd, 'first', '.agent-service.json'), 'utf8'));
    f.generatorVersion = '0.0.1';
    writeFileSync(join(cwd, 'old.json'), JSON.stringify(f));
    const r = cli(['again', '--answers', 'old.json', ...QUIET], { cwd });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: old\.json was written by create-agent-service 0\.0\.1; generating with /);
    expect(existsSync(join(cwd, 'again', '.agent-service.json'))).toBe(true);
  });

  it('two runs with different TZ, locale and cwd give identical bytes', () => {
    const a = tmp();
    const b = tmp();
    mkdirSync(join(b, 'deeper', 'still'), { recursive: true });
    chmodSync(b, 0o755);
    const args = ['--name', 'same-svc', '--store', 'postgres', '--observability', 'otel', '--yes', ...QUIET];
    expect(cli([join(a, 'out'), ...args], { cwd: a, env: { TZ: 'UTC', LANG: 'C', LC_ALL: 'C' } }).code).toBe(0);
    expect(
      cli(['../../out', ...args], { cwd: join(b, 'deeper', 'still'), env: { TZ: 'Pacific/Kiritimati', LANG: 'tr_TR.UTF-8', LC_ALL: 'tr_TR.UTF-8' } }).code,
    ).toBe(0);
    const ha = treeHashes(join(a, 'out'));
    const hb = treeHashes(join(b, 'out'));
    expect([...hb.keys()]).toEqual([...ha.keys()]);
    expect(hb).toEqual(ha);
  });
});

describe('subcommands', () => {
  it.each(['check', 'update'])('%s is dispatched (not a DIR named %s)', (cmd) => {
    const cwd = tmp();
    const r = cli([cmd, '.'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: /);
    expect(readdirSync(cwd)).toEqual([]);
  });
  it('--name=-agent reaches validation', () => refused(['--name=-agent', '--yes'], /--name: "-agent" is not a DNS-1123 label/));
});
