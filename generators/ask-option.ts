/**
 * One clack prompt for one option of the schema: a select for choices (with
 * each choice's hint), a text input with inline validation otherwise. Shared by
 * the create flow (interactive.ts) and `update`'s questions for options that
 * are new since a project was generated (drift/ask.ts), so both ask the same way.
 */
import * as p from '@clack/prompts';
import { checkValue, type OptionKey, optionSpec } from './app/options.js';

export interface AskOptionInput {
  key: OptionKey;
  initial: string | number | undefined;
  /** a message for an invalid value, or undefined when it is fine */
  validate: (raw: string) => string | undefined;
  /** shown dim in an empty text input, and taken when the user just presses Enter */
  placeholder?: string;
  /** called with clack's cancel symbol: must throw */
  onCancel: () => never;
  io: { input: NodeJS.ReadStream; output: NodeJS.WriteStream };
}

export async function askOption(a: AskOptionInput): Promise<string | number> {
  const spec = optionSpec(a.key);
  const answer = <T>(v: T | symbol): Exclude<T, symbol> => (p.isCancel(v) ? a.onCancel() : (v as Exclude<T, symbol>));
  if (spec.kind === 'choice') {
    return answer(
      await p.select<string>({
        ...a.io,
        message: spec.message,
        options: spec.choices.map((c) => ({ value: c.value, label: c.value, hint: c.hint })),
        initialValue: String(a.initial),
      }),
    );
  }
  const raw = answer(
    await p.text({
      ...a.io,
      message: spec.message,
      placeholder: a.placeholder,
      defaultValue: a.placeholder,
      initialValue: a.initial === undefined ? undefined : String(a.initial),
      validate: (v) => a.validate(v || (a.placeholder ?? '')),
    }),
  );
  return checkValue(a.key, raw || (a.placeholder ?? ''), spec.flag);
}
