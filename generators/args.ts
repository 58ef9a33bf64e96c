/**
 * Command-line parsing for every command (create, check, update, __render):
 * node:util parseArgs in strict mode, its errors turned into one-line UsageErrors.
 * The kind of error comes from the error's `code`; the option it is about from
 * parseArgs' own tokens (a second, lenient parse of the same arguments), so no
 * message text of Node's is parsed.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { UsageError } from './app/errors.js';
import { printable } from './app/options.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parse `argv`; `command` prefixes the messages (e.g. "check"), none for create. */
export function parseCommandArgs<O extends Options>(argv: string[], options: O, allowPositionals: boolean, command?: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (err) {
    const problem = describeParseError(err as Error & { code?: string }, argv, options, allowPositionals);
    throw new UsageError(command ? `${command}: ${problem}` : problem);
  }
}

function describeParseError(err: Error & { code?: string }, argv: string[], options: Options, allowPositionals: boolean): string {
  const { tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true });
  const optionTokens = tokens.filter((t) => t.kind === 'option');
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION': {
      const t = optionTokens.find((o) => !Object.hasOwn(options, o.name));
      if (t) return `unknown option ${t.rawName} (see --help)`;
      break;
    }
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      for (const t of optionTokens) {
        const flag = `--${t.name}`;
        const type = options[t.name]?.type;
        if (type === 'string' && t.value === undefined) return `${flag}: a value is required`;
        if (type === 'string' && !t.inlineValue && t.value?.startsWith('-'))
          return `${flag}: a value is required (for a value starting with "-", write ${flag}=VALUE)`;
        if (type === 'boolean' && t.value !== undefined) return `${flag}: takes no value`;
      }
      break;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL': {
      const t = allowPositionals ? undefined : tokens.find((p) => p.kind === 'positional');
      if (t) return `unexpected argument "${printable(t.value)}"`;
      break;
    }
  }
  return err.message.split('\n')[0]!;
}
