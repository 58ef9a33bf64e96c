/**
 * THE options schema: the single source of truth for every answer a service is
 * generated from. It drives the interactive prompts, the command-line flags,
 * --help, the validation of answers/preset files, defaults, the rules between
 * options, the README options table and schema/agent-service.schema.json.
 *
 * Adding an option = one entry in OPTIONS (+ its templates).
 */
import { pythonPackage } from './answers.js';
import { PYTHON_KEYWORDS, RESERVED_PACKAGES } from './reserved.js';

export interface Choice<V extends string = string> {
  value: V;
  /** One line shown next to the choice in the prompt, in --help and in the README. */
  hint: string;
}

/** Answers known so far, as seen by defaults and `ask` (loosely typed to keep OPTIONS non-circular). */
export type SoFar = { readonly [k: string]: string | number | undefined };

interface Common {
  /** Command-line flag, without the leading dashes. */
  flag: string;
  /** Placeholder for the value in --help (e.g. NAME). */
  metavar: string;
  /** One line: --help, README, JSON Schema description. */
  help: string;
  /** The interactive question. */
  message: string;
  /** Only ask (interactively) when this holds; otherwise the default applies. */
  ask?: (a: SoFar) => boolean;
}

export interface TextOption extends Common {
  kind: 'text';
  default: string | ((a: SoFar) => string);
  /** What it accepts, in words (README, --help). */
  accepts: string;
  /** JSON Schema facets, published in the schema; `validate` is the full check. */
  pattern?: string;
  maxLength: number;
  /** Full validation: returns a problem (lower case, no trailing period) or undefined. */
  validate: (v: string) => string | undefined;
}

export interface IntOption extends Common {
  kind: 'int';
  default: number | ((a: SoFar) => number);
  min: number;
  max: number;
  validate?: (v: number) => string | undefined;
}

export interface ChoiceOption<V extends string = string> extends Common {
  kind: 'choice';
  choices: readonly Choice<V>[];
  default: V;
}

export type OptionSpec = TextOption | IntOption | ChoiceOption;

// ---------------------------------------------------------------- validators

const LABEL = '[a-z0-9]([a-z0-9-]*[a-z0-9])?';
/** Service names leave room for suffixes such as `-postgres` in 63-char Kubernetes names. */
export const NAME_MAX = 40;
export const NAME_PATTERN = '^[a-z]([a-z0-9-]*[a-z0-9])?$';
const IMAGE_COMPONENT = '[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*';
export const IMAGE_PATTERN = `^(${LABEL}(\\.${LABEL})*(:[0-9]{1,5})?/)?${IMAGE_COMPONENT}(/${IMAGE_COMPONENT})*$`;
export const HOST_PATTERN = `^${LABEL}(\\.${LABEL})*$`;
export const OWNER_PATTERN = `^${IMAGE_COMPONENT}(/${IMAGE_COMPONENT})*$`;

export function validateName(v: string): string | undefined {
  if (v === '') return 'must not be empty';
  if (v.length > NAME_MAX) return `must be at most ${NAME_MAX} characters (it prefixes Kubernetes names of at most 63), got ${v.length}`;
  if (!new RegExp(NAME_PATTERN).test(v))
    return `"${printable(v)}" is not a DNS-1123 label: use lowercase letters, digits and '-', start with a letter, end with a letter or digit`;
  const pkg = pythonPackage(v);
  if (PYTHON_KEYWORDS.includes(pkg)) return `"${v}" is reserved: its Python package "${pkg}" is a Python keyword`;
  if (RESERVED_PACKAGES.has(pkg))
    return `"${v}" is reserved: its Python package "${pkg}" would shadow the Python module of the same name`;
  return undefined;
}

/** Characters other formats expand even inside quotes: make/Dockerfile/GitLab `$`, shell backticks, `{{ }}` templating. */
const DESCRIPTION_FORBIDDEN: readonly [RegExp, string][] = [
  [/\$/, '"$" (expanded by make, Dockerfile, GitLab CI and GitHub Actions)'],
  [/`/, '"`" (command substitution in shell)'],
  [/\{\{|\}\}/, '"{{" or "}}" (template expressions in CI and Kubernetes tooling)'],
];

export function validateDescription(v: string): string | undefined {
  if (v.trim() === '') return 'must not be empty';
  if (v.length > 200) return `must be at most 200 characters, got ${v.length}`;
  // eslint-disable-next-line no-control-regex
  if (/[\n\r\u2028\u2029\u0085]/.test(v)) return 'must be a single line';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(v)) return 'must not contain control characters';
  if (/[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/.test(v)) return 'must not contain invisible or bidirectional control characters';
  if (v !== v.trim()) return 'must not start or end with whitespace';
  for (const [re, what] of DESCRIPTION_FORBIDDEN) if (re.test(v)) return `must not contain ${what}`;
  return undefined;
}

const patternCheck =
  (pattern: string, max: number, what: string) =>
  (v: string): string | undefined => {
    if (v === '') return 'must not be empty';
    if (v.length > max) return `must be at most ${max} characters, got ${v.length}`;
    if (!new RegExp(pattern).test(v)) return `"${printable(v)}" is not ${what}`;
    return undefined;
  };

/** Show a value in a one-line error message without letting it break the line. */
export function printable(v: string): string {
  const s = JSON.stringify(v).slice(1, -1);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

// ---------------------------------------------------------------- the schema

export const OPTIONS = {
  name: {
    kind: 'text',
    accepts: "lowercase letters, digits, '-'; starts with a letter; at most 40; not a Python keyword or a module the service imports",
    flag: 'name',
    metavar: 'NAME',
    help: 'Service name: a DNS-1123 label (Kubernetes name, image name; with - -> _ the Python package). Defaults to the basename of DIR.',
    message: 'Service name',
    default: '',
    pattern: NAME_PATTERN,
    maxLength: NAME_MAX,
    validate: validateName,
  },
  description: {
    kind: 'text',
    accepts: 'one printable line, at most 200 characters, no `$`, backticks or `{{ }}`',
    flag: 'description',
    metavar: 'TEXT',
    help: 'One-line description (printable, at most 200 characters; no $, backticks or {{ }}).',
    message: 'One-line description',
    default: 'An LLM agent service',
    maxLength: 200,
    validate: validateDescription,
  },
  owner: {
    kind: 'text',
    accepts: 'lowercase letters, digits, `.` `_` `-`, parts separated by `/`',
    flag: 'owner',
    metavar: 'NAME',
    help: 'Owning organisation or team (lowercase; used in the image path and CODEOWNERS-style metadata).',
    message: 'Owner (organisation or team)',
    default: 'acme',
    pattern: OWNER_PATTERN,
    maxLength: 100,
    validate: patternCheck(OWNER_PATTERN, 100, 'a lowercase owner name (letters, digits, . _ - and / between parts)'),
  },
  framework: {
    kind: 'choice',
    flag: 'framework',
    metavar: 'NAME',
    help: 'Web framework.',
    message: 'Web framework',
    default: 'fastapi',
    choices: [
      { value: 'fastapi', hint: 'the most widely known; pydantic models, huge ecosystem' },
      { value: 'litestar', hint: 'choose it for msgspec speed and a leaner stack' },
    ],
  },
  observability: {
    kind: 'choice',
    flag: 'observability',
    metavar: 'NAME',
    help: 'Metrics and tracing stack.',
    message: 'Observability',
    default: 'prometheus',
    choices: [
      { value: 'prometheus', hint: '/metrics scraped by Prometheus, Grafana dashboard and alert rules' },
      { value: 'otel', hint: 'OpenTelemetry traces and metrics pushed to a Collector (OTLP)' },
      { value: 'minimal', hint: 'structured JSON logs only, no metrics backend to run' },
    ],
  },
  store: {
    kind: 'choice',
    flag: 'store',
    metavar: 'NAME',
    help: 'Where conversation sessions live.',
    message: 'Session store',
    default: 'memory',
    choices: [
      { value: 'memory', hint: 'in-process; one replica only, sessions lost on restart' },
      { value: 'redis', hint: 'shared and fast, with TTLs; lets you run several replicas' },
      { value: 'postgres', hint: 'durable and queryable, with migrations; several replicas' },
    ],
  },
  ci: {
    kind: 'choice',
    flag: 'ci',
    metavar: 'NAME',
    help: 'CI provider.',
    message: 'CI provider',
    default: 'github',
    choices: [
      { value: 'github', hint: 'GitHub Actions workflow: lint, types, tests, image build' },
      { value: 'gitlab', hint: 'GitLab CI pipeline: lint, types, tests, image build' },
      { value: 'none', hint: 'no CI files' },
    ],
  },
  k8s: {
    kind: 'choice',
    flag: 'k8s',
    metavar: 'NAME',
    help: 'Kubernetes manifests.',
    message: 'Kubernetes manifests',
    default: 'kustomize',
    choices: [
      { value: 'kustomize', hint: 'Deployment, Service, Ingress, HPA, PDB, NetworkPolicy with kustomize' },
      { value: 'none', hint: 'no Kubernetes manifests (compose only)' },
    ],
  },
  python: {
    kind: 'choice',
    flag: 'python',
    metavar: 'VERSION',
    help: 'Python version of the image and tooling.',
    message: 'Python version',
    default: '3.12',
    choices: [
      { value: '3.12', hint: 'the safe default' },
      { value: '3.11', hint: 'oldest supported' },
      { value: '3.13', hint: 'newest' },
    ],
  },
  port: {
    kind: 'int',
    flag: 'port',
    metavar: 'N',
    help: 'Port the service listens on (1024-65535: the container runs as non-root with every capability dropped).',
    message: 'HTTP port',
    default: 8000,
    min: 1024,
    max: 65535,
  },
  image: {
    kind: 'text',
    accepts: 'lowercase `[registry[:port]/]path`, no tag or digest',
    flag: 'image',
    metavar: 'REF',
    help: 'Container image reference without tag; CI pushes it and the manifests deploy it. Default: registry.gitlab.com/<owner>/<name> with --ci gitlab, ghcr.io/<owner>/<name> otherwise.',
    message: 'Container image (without tag; default registry: registry.gitlab.com with GitLab CI, ghcr.io otherwise)',
    // the registry of the chosen CI provider, so CI pushes what compose and the manifests run
    default: (a) => `${a.ci === 'gitlab' ? 'registry.gitlab.com' : 'ghcr.io'}/${a.owner ?? 'acme'}/${a.name ?? 'my-agent'}`,
    pattern: IMAGE_PATTERN,
    maxLength: 255,
    validate: patternCheck(IMAGE_PATTERN, 255, 'a lowercase image reference without tag or digest (e.g. ghcr.io/acme/my-agent)'),
  },
  host: {
    kind: 'text',
    accepts: 'lowercase DNS name',
    flag: 'host',
    metavar: 'HOST',
    help: 'Ingress host name. Default: <name>.example.com.',
    message: 'Ingress host',
    ask: (a) => a.k8s !== 'none',
    default: (a) => `${a.name ?? 'my-agent'}.example.com`,
    pattern: HOST_PATTERN,
    maxLength: 253,
    validate: patternCheck(HOST_PATTERN, 253, 'a lowercase DNS name (e.g. my-agent.example.com)'),
  },
  replicas: {
    kind: 'int',
    flag: 'replicas',
    metavar: 'N',
    help: 'Maximum replicas (HPA); 1 means no autoscaling. Default: 3, or 1 with --store memory.',
    message: 'Maximum replicas',
    ask: (a) => a.k8s !== 'none' && a.store !== 'memory',
    default: (a) => (a.store === 'memory' ? 1 : 3),
    min: 1,
    max: 100,
  },
} as const satisfies Record<string, OptionSpec>;

// ---------------------------------------------------------------- derived types

type ValueOf<O> = O extends { kind: 'choice'; choices: readonly { value: infer V }[] }
  ? V
  : O extends { kind: 'int' }
    ? number
    : string;

/** Every answer, typed from OPTIONS. */
export type ResolvedAnswers = { -readonly [K in keyof typeof OPTIONS]: ValueOf<(typeof OPTIONS)[K]> };
export type OptionKey = keyof typeof OPTIONS & string;
export const OPTION_KEYS = Object.keys(OPTIONS) as OptionKey[];
export const isOptionKey = (k: string): k is OptionKey => Object.prototype.hasOwnProperty.call(OPTIONS, k);
export const optionSpec = (k: OptionKey): OptionSpec => OPTIONS[k] as OptionSpec;

// ---------------------------------------------------------------- rules between options

export interface Rule {
  /** The options the rule is about (named in the message). */
  keys: OptionKey[];
  /** A reason when the combination cannot work, else undefined. */
  check: (a: ResolvedAnswers) => string | undefined;
}

export const RULES: Rule[] = [
  {
    keys: ['store', 'replicas'],
    check: (a) =>
      a.store === 'memory' && a.replicas > 1
        ? `store memory with replicas ${a.replicas} cannot work: sessions would not be shared between pods; choose store redis or postgres, or replicas 1`
        : undefined,
  },
];

// ---------------------------------------------------------------- validation

/** A problem with the user's input: one line, exit 2, nothing written. */
export class UsageError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Check one value; `where` names its origin for the message (e.g. `--store`, `preset.json: key "store"`). */
export function checkValue(key: OptionKey, value: unknown, where: string): string | number {
  const spec = optionSpec(key);
  if (spec.kind === 'choice') {
    const valid = spec.choices.map((c) => c.value);
    if (typeof value !== 'string' || !valid.includes(value))
      throw new UsageError(`${where}: ${JSON.stringify(value)} is not one of ${valid.join(', ')}`);
    return value;
  }
  if (spec.kind === 'int') {
    let n: number;
    if (typeof value === 'string') {
      if (!/^[0-9]+$/.test(value)) throw new UsageError(`${where}: "${printable(value)}" is not a whole number`);
      n = Number(value);
    } else if (typeof value === 'number' && Number.isInteger(value)) {
      n = value;
    } else {
      throw new UsageError(`${where}: ${printable(JSON.stringify(value) ?? String(value))} is not a whole number`);
    }
    if (n < spec.min || n > spec.max) {
      const reason = key === 'port' && n < 1024 ? ' (the container runs as non-root with every capability dropped)' : '';
      throw new UsageError(`${where}: ${n} is out of range ${spec.min}..${spec.max}${reason}`);
    }
    const problem = spec.validate?.(n);
    if (problem) throw new UsageError(`${where}: ${problem}`);
    return n;
  }
  if (typeof value !== 'string') throw new UsageError(`${where}: expected a string, got ${JSON.stringify(value)}`);
  const problem = spec.validate(value);
  if (problem) throw new UsageError(`${where}: ${problem}`);
  return value;
}

export type PartialAnswers = Partial<ResolvedAnswers>;
/** Where each given answer came from, to name it in messages. */
export type Origins = Partial<Record<OptionKey, string>>;

export function defaultFor(key: OptionKey, a: PartialAnswers): string | number {
  const d = optionSpec(key).default as unknown;
  return typeof d === 'function' ? (d as (x: PartialAnswers) => string | number)(a) : (d as string | number);
}

/**
 * Layer the sources (later wins), fill defaults in schema order, check the rules.
 * Throws UsageError naming the flag/file/key of the offending value.
 */
export function resolveAnswers(layers: { values: PartialAnswers; origin: (k: OptionKey) => string }[]): ResolvedAnswers {
  const out: PartialAnswers = {};
  const origins: Origins = {};
  for (const layer of layers)
    for (const k of OPTION_KEYS)
      if (layer.values[k] !== undefined) {
        (out as Record<string, unknown>)[k] = layer.values[k];
        origins[k] = layer.origin(k);
      }
  const resolved: PartialAnswers = {};
  for (const k of OPTION_KEYS) {
    const given = out[k];
    if (given !== undefined) {
      (resolved as Record<string, unknown>)[k] = checkValue(k, given, origins[k] ?? k);
    } else {
      if (k === 'name') throw new UsageError('missing service name: pass DIR or --name NAME');
      (resolved as Record<string, unknown>)[k] = checkValue(k, defaultFor(k, resolved), `default ${k}`);
    }
  }
  const full = resolved as ResolvedAnswers;
  checkRules(full, origins);
  return full;
}

export function checkRules(a: ResolvedAnswers, origins: Origins = {}): void {
  for (const rule of RULES) {
    const reason = rule.check(a);
    if (reason) {
      const from = rule.keys
        .map((k) => origins[k])
        .filter(Boolean)
        .join(', ');
      throw new UsageError(from ? `${from}: ${reason}` : reason);
    }
  }
}

/** Validate an object of answers read from a file. `complete` requires every key. */
export function answersFromObject(obj: unknown, where: string, complete: boolean): PartialAnswers {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new UsageError(`${where}: expected an object of answers`);
  const out: PartialAnswers = {};
  for (const [k, v] of Object.entries(obj)) {
    if (!isOptionKey(k)) throw new UsageError(`${where}: unknown key "${printable(k)}" (valid keys: ${OPTION_KEYS.join(', ')})`);
    (out as Record<string, unknown>)[k] = checkValue(k as OptionKey, v, `${where}: key "${k}"`);
  }
  if (complete) for (const k of OPTION_KEYS) if (out[k] === undefined) throw new UsageError(`${where}: key "${k}" is missing`);
  return out;
}

// ---------------------------------------------------------------- process options

export interface ProcessOption {
  flag: string;
  type: 'boolean' | 'string';
  metavar?: string;
  short?: string;
  help: string;
}

/** Options about the run rather than the service. */
export const PROCESS_OPTIONS: ProcessOption[] = [
  { flag: 'yes', short: 'y', type: 'boolean', help: 'Take defaults for everything not given; never prompt.' },
  { flag: 'answers', type: 'string', metavar: 'FILE', help: 'Replay a saved answers file (.agent-service.json) exactly.' },
  { flag: 'preset', type: 'string', metavar: 'FILE', help: 'Team defaults (partial answers); flags override the preset, the preset overrides defaults.' },
  { flag: 'dry-run', type: 'boolean', help: 'Print the files that would be written, with sizes; write nothing.' },
  { flag: 'force', type: 'boolean', help: 'Allow a non-empty DIR: overwrite generated files (reported as conflicts); never touch other files.' },
  { flag: 'no-install', type: 'boolean', help: 'Skip `uv sync`.' },
  { flag: 'no-git', type: 'boolean', help: 'Skip `git init` and the first commit.' },
  { flag: 'help', short: 'h', type: 'boolean', help: 'Show this help.' },
  { flag: 'version', short: 'v', type: 'boolean', help: 'Print the version.' },
];

// ---------------------------------------------------------------- help text

export function helpText(version: string): string {
  const rows: [string, string][] = [];
  for (const k of OPTION_KEYS) {
    const spec = optionSpec(k);
    let help = spec.help;
    if (spec.kind === 'choice') help += ` ${spec.choices.map((c) => (c.value === spec.default ? `${c.value} (default)` : c.value)).join(' | ')}`;
    else if (spec.kind === 'int' && typeof spec.default === 'number') help += ` Default: ${spec.default}.`;
    else if (spec.kind === 'text' && typeof spec.default === 'string' && spec.default) help += ` Default: "${spec.default}".`;
    rows.push([`--${spec.flag} ${spec.metavar}`, help]);
  }
  const proc: [string, string][] = PROCESS_OPTIONS.map((o) => [
    `${o.short ? `-${o.short}, ` : ''}--${o.flag}${o.metavar ? ` ${o.metavar}` : ''}`,
    o.help,
  ]);
  const width = Math.max(...[...rows, ...proc].map(([l]) => l.length)) + 2;
  const fmt = ([l, r]: [string, string]) => `  ${l.padEnd(width)}${r}`;
  return [
    `create-agent-service ${version}: generate a production-grade LLM agent service`,
    '',
    'Usage:',
    '  create-agent-service [DIR] [options]   generate a service into DIR (default: ./<name>)',
    '  create-agent-service check [DIR]       report drift from the generated files',
    '  create-agent-service update [DIR]      update to this generator version',
    '',
    'Service options:',
    ...rows.map(fmt),
    '',
    'Run options:',
    ...proc.map(fmt),
    '',
    'Interactive when stdin and stdout are terminals, CI is not set and --yes is not given.',
    'Exit codes: 0 done, 1 unexpected failure, 2 invalid input, 130 cancelled.',
    '',
  ].join('\n');
}
