/**
 * How a command ends other than by success (cli.ts `main` maps them to exit codes).
 * UsageError (bad input, exit 2) lives in app/errors.ts, with the options schema
 * whose validators throw it.
 */

/** Exit code when the user cancels (Ctrl-C), as a shell reports SIGINT. */
export const EXIT_CANCELLED = 130;

/** The user cancelled: exit 130. */
export class Cancelled extends Error {
  constructor(
    /** The interactive UI already said "cancelled". */
    readonly shown = false,
    /** One more line for the user: what the cancelled run left behind. */
    readonly detail?: string,
  ) {
    super('cancelled');
  }
}
