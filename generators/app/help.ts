/** `create-agent-service --help`, from the options schema. */
import { OPTION_KEYS, optionSpec, PROCESS_OPTIONS } from './schema.js';

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
  const proc: [string, string][] = PROCESS_OPTIONS.map((o) => [`${o.short ? `-${o.short}, ` : ''}--${o.flag}${o.metavar ? ` ${o.metavar}` : ''}`, o.help]);
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
