/**
 * `create-agent-service check [DIR]`.
 * TODO(check issue): not implemented yet; the lead replaces this stub.
 * Contract: run(argv) receives the arguments after "check" and returns the exit code.
 */
export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('error: create-agent-service check is not implemented yet\n');
  return 2;
}
