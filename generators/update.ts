/**
 * `create-agent-service update [DIR]`.
 * TODO(update issue): not implemented yet; the lead replaces this stub.
 * Contract: run(argv) receives the arguments after "update" and returns the exit code.
 */
export async function run(_argv: string[]): Promise<number> {
  process.stderr.write('error: create-agent-service update is not implemented yet\n');
  return 2;
}
