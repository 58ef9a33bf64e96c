/**
 * Rules between options, and resolution: layering the answer sources, filling
 * defaults, checking each value (validators.ts) and the combinations (RULES).
 */
import { UsageError } from './errors.js';
import { isOptionKey, OPTION_KEYS, type OptionKey, optionSpec, type ResolvedAnswers } from './schema.js';
import { printable } from './validators.js';

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

/** Check one value; `where` names its origin for the message (e.g. `--store`, `preset.json: key "store"`). */
export function checkValue(key: OptionKey, value: unknown, where: string): string | number {
  const spec = optionSpec(key);
  if (spec.kind === 'choice') {
    const valid = spec.choices.map((c) => c.value);
    if (typeof value !== 'string' || !valid.includes(value)) throw new UsageError(`${where}: ${JSON.stringify(value)} is not one of ${valid.join(', ')}`);
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
      const from = (optionSpec(k).derivedFrom ?? []).map((d) => origins[d as OptionKey]).filter(Boolean);
      (resolved as Record<string, unknown>)[k] = checkValue(k, defaultFor(k, resolved), `default ${k}${from.length ? ` (from ${from.join(', ')})` : ''}`);
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
