import { describe, expect, expectTypeOf, it } from 'vitest';
import type { Answers } from '../../generators/app/answers.js';
import { parseAnswersText, serializeAnswersFile } from '../../generators/app/answers-file.js';
import { UsageError } from '../../generators/app/errors.js';
import { answersFromObject, helpText, OPTION_KEYS, OPTIONS, resolveAnswers, validateDescription, validateName } from '../../generators/app/options.js';

const flags = (values: Partial<Answers>) => ({ values, origin: (k: string) => `--${k}` });

describe('options schema', () => {
  it('Answers is derived from the schema', () => {
    expectTypeOf<Answers['framework']>().toEqualTypeOf<'fastapi' | 'litestar'>();
    expectTypeOf<Answers['store']>().toEqualTypeOf<'memory' | 'redis' | 'postgres'>();
    expectTypeOf<Answers['python']>().toEqualTypeOf<'3.12' | '3.11' | '3.13'>();
    expectTypeOf<Answers['port']>().toEqualTypeOf<number>();
    expectTypeOf<Answers['description']>().toEqualTypeOf<string>();
    expect(OPTION_KEYS).toEqual([
      'name',
      'description',
      'owner',
      'framework',
      'observability',
      'store',
      'ci',
      'k8s',
      'python',
      'port',
      'image',
      'host',
      'replicas',
    ]);
  });

  it('every choice has a one-line hint; litestar says why to choose it', () => {
    for (const k of OPTION_KEYS) {
      const spec = OPTIONS[k];
      expect(spec.help.length).toBeGreaterThan(0);
      expect(spec.message.length).toBeGreaterThan(0);
      if (spec.kind === 'choice') for (const c of spec.choices) expect(c.hint).toMatch(/^[^\n]{5,100}$/);
    }
    expect(OPTIONS.framework.choices.find((c) => c.value === 'litestar')!.hint).toMatch(/msgspec/);
  });

  it('defaults depend on other answers', () => {
    const a = resolveAnswers([flags({ name: 'svc', owner: 'team' })]);
    expect(a).toMatchObject({ image: 'ghcr.io/team/svc', host: 'svc.example.com', replicas: 1, port: 8000, framework: 'fastapi' });
    expect(resolveAnswers([flags({ name: 'svc', store: 'redis' })]).replicas).toBe(3);
  });

  it('later layers win (flags > preset > defaults)', () => {
    const a = resolveAnswers([{ values: { ci: 'gitlab', owner: 'platform' }, origin: (k) => `preset: ${k}` }, flags({ name: 'svc', ci: 'none' })]);
    expect(a.ci).toBe('none');
    expect(a.owner).toBe('platform');
  });

  it('rules are checked after defaults and name their sources', () => {
    expect(() => resolveAnswers([flags({ name: 'svc', replicas: 2 })])).toThrow(
      /--replicas: store memory with replicas 2 cannot work: sessions would not be shared between pods/,
    );
    expect(() => resolveAnswers([flags({ name: 'svc', replicas: 2, store: 'redis' })])).not.toThrow();
  });

  it.each(['a', 'my-agent', 'agent2', 'a-b-c', 'x'.repeat(40), 'test-agent', 'json-api'])('valid name %s', (n) => expect(validateName(n)).toBeUndefined());
  it.each([
    '',
    'A',
    'my_agent',
    '-a',
    'a-',
    '1a',
    'a.b',
    'a b',
    'x'.repeat(41),
    'class',
    'import',
    'async',
    'none',
    'type',
    'json',
    'asyncio',
    'test',
    'tests',
    'typing',
    'logging',
    'redis',
    'py-compile',
    'é',
  ])('invalid name %j', (n) => expect(validateName(n)).toBeDefined());

  it.each([
    ['ok', 'An agent that says "hi" & \'bye\' <b> # | : - {x} [y] \\ %', undefined],
    ['unicode ok', 'Agent für Käse — 日本語', undefined],
    ['newline', 'a\nb', /single line/],
    ['tab', 'a\tb', /control/],
    ['NUL', 'a\u0000b', /control/],
    ['DEL', 'a\u007fb', /control/],
    ['NEL', 'a\u0085b', /single line/],
    ['zero width', 'a\u200bb', /invisible/],
    ['dollar', 'costs $5', /\$/],
    ['leading space', ' a', /whitespace/],
  ])('description %s', (_l, d, expected) => {
    const r = validateDescription(d);
    if (expected === undefined) expect(r).toBeUndefined();
    else expect(r).toMatch(expected);
  });

  it('answers objects: unknown keys and bad values are named', () => {
    expect(() => answersFromObject({ nme: 'x' }, 'f.json', false)).toThrow(/f\.json: unknown key "nme"/);
    expect(() => answersFromObject({ port: 8000.5 }, 'f.json', false)).toThrow(/f\.json: key "port": 8000.5 is not a whole number/);
    expect(() => answersFromObject({ port: '8000' }, 'f.json', false)).not.toThrow();
    expect(() => answersFromObject({ name: 'x' }, 'f.json', true)).toThrow(/f\.json: key "description" is missing/);
    expect(() => answersFromObject({ __proto__: 1 } as never, 'f.json', false)).not.toThrow();
    expect(() => answersFromObject(JSON.parse('{"__proto__": {"x": 1}}'), 'f.json', false)).toThrow(/unknown key "__proto__"/);
    expect(() => answersFromObject(JSON.parse('{"constructor": 1}'), 'f.json', false)).toThrow(/unknown key "constructor"/);
  });

  it('errors are UsageError with exit code 2', () => {
    try {
      resolveAnswers([flags({ name: 'svc', store: 'nope' as never })]);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).exitCode).toBe(2);
      expect((err as Error).message).toBe('--store: "nope" is not one of memory, redis, postgres');
    }
  });

  it('--help mentions every option and every choice', () => {
    const h = helpText('9.9.9');
    for (const k of OPTION_KEYS) {
      const spec = OPTIONS[k];
      expect(h).toContain(`--${spec.flag}`);
      if (spec.kind === 'choice') for (const c of spec.choices) expect(h).toContain(c.value);
    }
  });
});

describe('answers file', () => {
  const answers = resolveAnswers([flags({ name: 'svc', description: 'Says "hi"' })]);
  it('serialises deterministically: fixed key order, 2 spaces, trailing newline', () => {
    const text = serializeAnswersFile({ generatorVersion: '1.2.3', answers: { ...answers }, ownedPaths: ['docs/**'] });
    const shuffled = Object.fromEntries(Object.entries(answers).reverse()) as Answers;
    expect(serializeAnswersFile({ generatorVersion: '1.2.3', answers: shuffled, ownedPaths: ['docs/**'] })).toBe(text);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toMatch(
      /^\{\n {2}"\$schema": "https:\/\/unpkg\.com\/create-agent-service@1\.2\.3\/schema\/agent-service\.schema\.json",\n {2}"generatorVersion": "1\.2\.3",\n {2}"answers": \{\n {4}"name": "svc",/,
    );
  });
  it('round-trips through parseAnswersText', () => {
    const text = serializeAnswersFile({ generatorVersion: '1.2.3', answers, ownedPaths: [] });
    const parsed = parseAnswersText(text, 'a.json', true);
    expect(parsed.answers).toEqual(answers);
    expect(parsed.generatorVersion).toBe('1.2.3');
    expect(parsed.ownedPaths).toEqual([]);
  });
  it('flat presets and file-shaped presets are both accepted', () => {
    expect(parseAnswersText('{"store": "redis"}', 'p.json', false).answers).toEqual({ store: 'redis' });
    expect(parseAnswersText('{"answers": {"store": "redis"}}', 'p.json', false).answers).toEqual({ store: 'redis' });
    expect(() => parseAnswersText('{"store": "redis"}', 'a.json', true)).toThrow(/a\.json: key "answers" is missing/);
  });
});
