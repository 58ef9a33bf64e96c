/** Errors the generator reports to the user as one line (cli.ts prints them). */

/** A problem with the user's input: one line, exit 2, nothing written. */
export class UsageError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}
