/**
 * THE options schema: the single source of truth for every answer a service is
 * generated from. It drives the interactive prompts, the command-line flags,
 * --help, the validation of answers/preset files, defaults, the rules between
 * options, the README options table and schema/agent-service.schema.json.
 *
 * Adding an option = one entry in OPTIONS (+ its templates). Value checks live in
 * validators.ts, rules between options in rules.ts, --help in help.ts.
 */
import {
  HOST_MAX,
  HOST_PATTERN,
  IMAGE_PATTERN,
  NAME_MAX,
  NAME_PATTERN,
  OWNER_PATTERN,
  validateDescription,
  validateHost,
  validateImage,
  validateName,
  validateOwner,
} from './validators.js';

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
  /** Options a computed default is made of (named when that default is invalid). */
  derivedFrom?: readonly string[];
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

// ---------------------------------------------------------------- the schema

export const OPTIONS = {
  name: {
    kind: 'text',
    accepts:
      "lowercase letters, digits, '-'; starts with a letter; at most 40; not a Python keyword, a module the service imports, a locked dependency or a test module",
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
    accepts: 'one printable line, at most 200 characters, no `$`, backticks, `{{ }}` or invisible format characters (Unicode Cf)',
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
    validate: validateOwner,
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
    accepts: 'lowercase `[registry[:port]/]path`, no tag or digest; a registry host needs a path; on ghcr.io exactly `ghcr.io/<owner>/<repository>`',
    flag: 'image',
    metavar: 'REF',
    help: 'Container image reference without tag; CI pushes it and the manifests deploy it. Default: registry.gitlab.com/<owner>/<name> with --ci gitlab, ghcr.io/<owner>/<name> otherwise.',
    message: 'Container image (without tag; default registry: registry.gitlab.com with GitLab CI, ghcr.io otherwise)',
    // the registry of the chosen CI provider, so CI pushes what compose and the manifests run
    default: (a) => `${a.ci === 'gitlab' ? 'registry.gitlab.com' : 'ghcr.io'}/${a.owner ?? 'acme'}/${a.name ?? 'my-agent'}`,
    derivedFrom: ['ci', 'owner', 'name'],
    pattern: IMAGE_PATTERN,
    maxLength: 255,
    validate: validateImage,
  },
  host: {
    kind: 'text',
    accepts: 'lowercase DNS name, not an IP address; labels of at most 63, at most 249 characters (the dev overlay serves `dev.<host>`)',
    flag: 'host',
    metavar: 'HOST',
    help: 'Ingress host name. Default: <name>.example.com.',
    message: 'Ingress host',
    ask: (a) => a.k8s !== 'none',
    default: (a) => `${a.name ?? 'my-agent'}.example.com`,
    derivedFrom: ['name'],
    pattern: HOST_PATTERN,
    maxLength: HOST_MAX,
    validate: validateHost,
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

type ValueOf<O> = O extends { kind: 'choice'; choices: readonly { value: infer V }[] } ? V : O extends { kind: 'int' } ? number : string;

/** Every answer, typed from OPTIONS. */
export type ResolvedAnswers = { -readonly [K in keyof typeof OPTIONS]: ValueOf<(typeof OPTIONS)[K]> };
export type OptionKey = keyof typeof OPTIONS & string;
export const OPTION_KEYS = Object.keys(OPTIONS) as OptionKey[];
export const isOptionKey = (k: string): k is OptionKey => Object.hasOwn(OPTIONS, k);
export const optionSpec = (k: OptionKey): OptionSpec => OPTIONS[k] as OptionSpec;

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
