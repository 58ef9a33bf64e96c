/**
 * Ask for options that are new since the version a project was generated with,
 * with the same clack prompts (message, choices and hints, default, inline
 * validation) the create command builds from the options schema.
 * Imported lazily: only `update` on a TTY without --yes gets here.
 */
import * as p from '@clack/prompts';
import { UsageError } from '../app/errors.js';
import { checkValue, defaultFor, type OptionKey, optionSpec, type PartialAnswers } from '../app/options.js';
import { askOption } from '../ask-option.js';
import { Cancelled } from '../errors.js';

export async function askNewOptions(
  keys: readonly OptionKey[],
  known: PartialAnswers,
  io: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream },
  fromVersion: string,
  toVersion: string,
): Promise<PartialAnswers> {
  const opts = { input: io.stdin as NodeJS.ReadStream, output: io.stdout as NodeJS.WriteStream };
  p.intro(`create-agent-service ${toVersion}: ${keys.length} new option${keys.length === 1 ? '' : 's'} since ${fromVersion}`, opts);
  const sofar: PartialAnswers = { ...known };
  const given: PartialAnswers = {};
  for (const key of keys) {
    const spec = optionSpec(key);
    const initial = defaultFor(key, sofar);
    if (spec.ask && !spec.ask(sofar)) continue; // not relevant for these answers: the default applies
    const value = await askOption({
      key,
      initial,
      validate: (raw) => {
        try {
          checkValue(key, raw, spec.flag);
          return undefined;
        } catch (err) {
          return err instanceof UsageError ? err.message.replace(/^[\w-]+: /, '') : String(err);
        }
      },
      onCancel: () => {
        p.cancel('cancelled');
        throw new Cancelled(true);
      },
      io: opts,
    });
    (sofar as Record<string, unknown>)[key] = value;
    (given as Record<string, unknown>)[key] = value;
  }
  p.outro('answers recorded; computing the update', opts);
  return given;
}
