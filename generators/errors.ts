/**
 * The errors a command ends with, and their exit codes (cli.ts `main` maps them).
 * UsageError is defined with the options schema, whose validators throw it; every
 * other module takes it from here.
 */
export { UsageError } from './app/options.js';

/** Exit code when the user cancels (Ctrl-C), as a shell reports SIGINT. */
export const EXIT_CANCELLED = 130;

/** The user cancelled at a prompt: exit 130, nothing written. */
export class Cancelled extends Error {
  /** `shown`: the interactive UI already said so. */
  constructor(readonly shown = false) {
    super('cancelled');
  }
}
