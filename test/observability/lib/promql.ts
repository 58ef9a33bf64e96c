/**
 * Metric names used by a PromQL expression: a small tokenizer, enough for the
 * expressions in the generated rules and dashboard (functions, aggregations
 * with by/without, binary operators with on/ignoring/group_*, offsets).
 */
const KEYWORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless',
  'offset', 'inf', 'nan', 'atan2', 'start', 'end',
]);

/** Replace Grafana's variables with values Prometheus accepts. */
export function grafanaToPromql(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$__range', '1h')
    .replace(/\$\{?job\}?/g, '.+');
}

export function metricNames(expr: string): string[] {
  let s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""') // string literals
    .replace(/#.*$/gm, ''); // comments
  const names = new Set<string>();
  // {__name__="..."} selectors are resolved before label matchers are dropped
  for (const m of expr.matchAll(/__name__\s*=\s*"([a-zA-Z_:][a-zA-Z0-9_:]*)"/g)) names.add(m[1]!);
  s = s.replace(/\{[^}]*\}/g, ' '); // label matchers
  s = s.replace(/\[[^\]]*\]/g, ' '); // ranges and subqueries
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  const re = /[a-zA-Z_:][a-zA-Z0-9_:]*/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    const word = m[0];
    const before = s[m.index - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue; // 1e3, 0.5
    const rest = s.slice(m.index + word.length);
    if (/^\s*\(/.test(rest)) continue; // function or aggregation
    if (KEYWORDS.has(word.toLowerCase())) continue;
    if (/^(offset)$/i.test(s.slice(Math.max(0, m.index - 7), m.index).trim())) continue;
    names.add(word);
  }
  return [...names].sort();
}

/** The series name a histogram/summary sample belongs to. */
export function familyOf(name: string): string {
  return name.replace(/_(bucket|count|sum)$/, '');
}
