/**
 * `create-agent-service update [DIR]`: 3-way update to another generator version.
 * The logic lives in generators/drift/ (docs/DRIFT.md).
 * Contract: run(argv) receives the arguments after "update" and returns the exit code.
 */
export async function run(argv: string[]): Promise<number> {
  const { runUpdate, UpdateCancelled } = await import('./drift/update.js');
  const ci = process.env.CI;
  const isCi = ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true && !isCi;
  try {
    return await runUpdate(argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, cwd: process.cwd(), env: process.env, interactive });
  } catch (err) {
    if (err instanceof UpdateCancelled) {
      process.stderr.write('cancelled\n');
      return 130;
    }
    throw err;
  }
}
