/**
 * `create-agent-service check [DIR]`: the drift check. The logic lives in
 * generators/drift/ (docs/DRIFT.md).
 * Contract: run(argv) receives the arguments after "check" and returns the exit code.
 */
export async function run(argv: string[]): Promise<number> {
  const { runCheck } = await import('./drift/check.js');
  return runCheck(argv, { stdout: process.stdout, stderr: process.stderr, cwd: process.cwd(), env: process.env });
}
