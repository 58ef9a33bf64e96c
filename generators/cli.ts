/**
 * create-agent-service [DIR] [options] | check [DIR] | update [DIR]
 *
 * The entry point: dispatches to a command and turns what it throws into an
 * exit code and one line on stderr. Startup cost matters (time to first prompt
 * <= 150 ms): the create command's module imports only node builtins and the
 * options schema; the renderer and writer, clack, the post-generation steps and
 * check/update are imported on the path that needs them.
 */

import { UsageError } from './app/errors.js';
import { create } from './create.js';
import { Cancelled, EXIT_CANCELLED } from './errors.js';
import { type Io, isCi, processIo } from './io.js';

export async function main(argv: string[] = process.argv.slice(2), io: Io = processIo()): Promise<number> {
  try {
    // hidden, stable machine interface for check/update of other versions (generators/drift/render-command.ts)
    if (argv[0] === '__render') return await (await import('./drift/render-command.js')).run(argv.slice(1));
    if (argv[0] === 'check') return await (await import('./drift/check.js')).runCheck(argv.slice(1), io);
    if (argv[0] === 'update') {
      // update prompts on stderr: its stdout is the plan, for a pager or a file
      const interactive = io.stdin.isTTY === true && io.stderr.isTTY === true && !isCi(io.env);
      return await (await import('./drift/update.js')).runUpdate(argv.slice(1), { ...io, interactive });
    }
    return await create(argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof Cancelled) {
      if (!err.shown) io.stderr.write('cancelled\n');
      if (err.detail) io.stderr.write(`${err.detail}\n`);
      return EXIT_CANCELLED;
    }
    const e = err as Error;
    io.stderr.write(`error: ${e.name === 'RenderError' ? '' : 'unexpected failure: '}${e.message}\n`);
    if (io.env.DEBUG) io.stderr.write(`${e.stack}\n`);
    return 1;
  }
}
