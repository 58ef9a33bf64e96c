/**
 * Checks of single values, each against the rules of the places the value lands
 * (Python package names, DNS, OCI image references, ...). A validator returns a
 * problem (lower case, no trailing period) or undefined.
 */
import { pythonPackage } from './answers.js';
import { LOCKED_DISTRIBUTIONS, TEST_MODULES } from './locked-names.js';
import { PYTHON_KEYWORDS, RESERVED_PACKAGES } from './reserved.js';

const LABEL = '[a-z0-9]([a-z0-9-]*[a-z0-9])?';
/** Service names leave room for suffixes such as `-postgres` in 63-char Kubernetes names. */
export const NAME_MAX = 40;
export const NAME_PATTERN = '^[a-z]([a-z0-9-]*[a-z0-9])?$';
const IMAGE_COMPONENT = '[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*';
export const IMAGE_PATTERN = `^(${LABEL}(\\.${LABEL})*(:[0-9]{1,5})?/)?${IMAGE_COMPONENT}(/${IMAGE_COMPONENT})*$`;
export const HOST_PATTERN = `^${LABEL}(\\.${LABEL})*$`;
/** 253 (a DNS name) minus "dev.": the kustomize dev overlay serves dev.<host>. */
export const HOST_MAX = 253 - 'dev.'.length;
/** RFC 1035: a DNS label is at most 63 octets. */
const LABEL_MAX = 63;
export const OWNER_PATTERN = `^${IMAGE_COMPONENT}(/${IMAGE_COMPONENT})*$`;

export function validateName(v: string): string | undefined {
  if (v === '') return 'must not be empty';
  if (v.length > NAME_MAX) return `must be at most ${NAME_MAX} characters (it prefixes Kubernetes names of at most 63), got ${v.length}`;
  if (!new RegExp(NAME_PATTERN).test(v))
    return `"${printable(v)}" is not a DNS-1123 label: use lowercase letters, digits and '-', start with a letter, end with a letter or digit`;
  const pkg = pythonPackage(v);
  if (PYTHON_KEYWORDS.includes(pkg)) return `"${v}" is reserved: its Python package "${pkg}" is a Python keyword`;
  if (RESERVED_PACKAGES.has(pkg)) return `"${v}" is reserved: its Python package "${pkg}" would shadow the Python module of the same name`;
  // service names are lowercase with '-' only, so v is already its PEP 503 normal form
  if (LOCKED_DISTRIBUTIONS[v])
    return `"${v}" is reserved: the generated project depends on the package "${v}" (a locked dependency), and a project cannot depend on its own name (uv sync fails)`;
  const shadowed = Object.entries(LOCKED_DISTRIBUTIONS).find(([, modules]) => modules.includes(pkg));
  if (shadowed) return `"${v}" is reserved: its Python package "${pkg}" would shadow the module "${pkg}" of the locked dependency ${shadowed[0]}`;
  if (TEST_MODULES.includes(pkg))
    return `"${v}" is reserved: its Python package "${pkg}" has the name of a module in the generated tests folder, which pytest imports by bare name`;
  return undefined;
}

/** Every name validateName refuses for being taken (keywords, stdlib, project modules, locked dependencies, test modules), as service names. */
export function reservedNames(): string[] {
  const modules = [...PYTHON_KEYWORDS, ...RESERVED_PACKAGES, ...Object.values(LOCKED_DISTRIBUTIONS).flat(), ...TEST_MODULES];
  const names = [...modules.map((m) => m.replace(/_/g, '-')), ...Object.keys(LOCKED_DISTRIBUTIONS)];
  return [...new Set(names)].filter((n) => new RegExp(NAME_PATTERN).test(n) && n.length <= NAME_MAX).sort();
}

/** Characters other formats expand even inside quotes: make/Dockerfile/GitLab `$`, shell backticks, `{{ }}` templating. */
const DESCRIPTION_FORBIDDEN: readonly [RegExp, string][] = [
  [/\$/, '"$" (expanded by make, Dockerfile, GitLab CI and GitHub Actions)'],
  [/`/, '"`" (command substitution in shell)'],
  [/\{\{|\}\}/, '"{{" or "}}" (template expressions in CI and Kubernetes tooling)'],
];

/** The first Unicode format character (category Cf: invisible, bidirectional, tag characters) in v. */
function formatCharacter(v: string): string | undefined {
  return /\p{Cf}/u.exec(v)?.[0];
}

const codePoint = (c: string): string => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

export function validateDescription(v: string): string | undefined {
  if (v.trim() === '') return 'must not be empty';
  if (v.length > 200) return `must be at most 200 characters, got ${v.length}`;
  if (/[\n\r\u2028\u2029\u0085]/.test(v)) return 'must be a single line';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\u0000-\u001f\u007f-\u009f]/.test(v)) return 'must not contain control characters';
  // invisible and bidirectional characters end up unseen in pyproject, OpenAPI and image labels
  const cf = formatCharacter(v);
  if (cf) return `must not contain invisible or bidirectional format characters: found ${codePoint(cf)}`;
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

/** The first DNS label of `host` longer than 63 characters. */
const longLabel = (host: string): string | undefined => host.split('.').find((l) => l.length > LABEL_MAX);

export function validateOwner(v: string): string | undefined {
  return patternCheck(OWNER_PATTERN, 100, 'a lowercase owner name (letters, digits, . _ - and / between parts)')(v);
}

/**
 * An OCI image reference without tag: `[registry[:port]/]path`. Docker reads the
 * first component as a registry when it has a "." or ":" or is "localhost"; then
 * a path must follow, and the port must be a TCP port.
 */
export function validateImage(v: string): string | undefined {
  const basic = patternCheck(IMAGE_PATTERN, 255, 'a lowercase image reference without tag or digest (e.g. ghcr.io/acme/my-agent)')(v);
  if (basic) return basic;
  const [first, ...path] = v.split('/');
  const isRegistry = first!.includes('.') || first!.includes(':') || first === 'localhost';
  if (isRegistry && path.length === 0)
    return `"${printable(v)}" is a registry host without an image path: give the repository too (e.g. ${first}/acme/my-agent)`;
  if (!isRegistry) return undefined;
  const [host, port] = first!.split(':');
  const label = longLabel(host!);
  if (label) return `registry host "${printable(host!)}" has a DNS label longer than ${LABEL_MAX} characters`;
  if (port !== undefined && (Number(port) < 1 || Number(port) > 65535)) return `registry port ${port} is out of range 1..65535`;
  if (host === 'ghcr.io' && path.length !== 2)
    return `"${printable(v)}": a ghcr.io image here is ghcr.io/<owner>/<repository> (the image's source label links https://github.com/<owner>/<repository>), got ${path.length} path segments (an owner of several parts, e.g. a GitLab group, needs --image on another registry)`;
  return undefined;
}

/** An Ingress host: a DNS name (not an IP address: Kubernetes refuses one in spec.rules[].host). */
export function validateHost(v: string): string | undefined {
  const basic = patternCheck(HOST_PATTERN, HOST_MAX, 'a lowercase DNS name (e.g. my-agent.example.com)')(v);
  if (basic) return `${basic}${basic.startsWith('must be at most') ? ' (the dev overlay serves dev.<host>, at most 253)' : ''}`;
  const label = longLabel(v);
  if (label) return `"${printable(v)}" has a DNS label of ${label.length} characters; at most ${LABEL_MAX}`;
  // a name whose last label is all digits is an IPv4 address, never a DNS name (no TLD is numeric)
  if (/(^|\.)[0-9]+$/.test(v)) return `"${printable(v)}" is an IP address or ends in a numeric label: an Ingress host must be a DNS name`;
  return undefined;
}
