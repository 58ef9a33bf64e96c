/**
 * ProjectSpec -> files on disk: render in memory, check what writing would do,
 * then print the dry run, or write (interactive.ts shows progress on a TTY) and
 * run the post-generation steps. Imported lazily by create.ts.
 */
import { readFileSync } from 'node:fs';
import { UsageError } from './app/errors.js';
import type { RenderedTree } from './app/render.js';
import { render } from './app/render.js';
import { writeTree } from './app/write.js';
import { type FileStatus, fileStatuses } from './app/write-check.js';
import { displayDir } from './io.js';
import { TEMPLATES_DIR } from './paths.js';
import type { GenerateFlags, ProjectSpec } from './types.js';
import { VERSION } from './version.js';

/** --dry-run: every file with its size and what writing it would do; nothing written. */
function printDryRun(tree: RenderedTree, statuses: Map<string, FileStatus>, shown: string, out: NodeJS.WritableStream): void {
  const width = Math.max(...[...tree.values()].map((x) => String(x.content.length).length));
  let total = 0;
  for (const [rel, file] of tree) {
    total += file.content.length;
    const st = statuses.get(rel);
    const note = st === 'conflict' ? '  (conflict: exists and differs)' : st === 'identical' ? '  (identical)' : '';
    out.write(`${String(file.content.length).padStart(width)}  ${rel}${file.mode & 0o111 ? '  (executable)' : ''}${note}\n`);
  }
  out.write(`dry run: ${tree.size} files, ${total} bytes would be written to ${shown}; nothing written\n`);
}

export async function generate(project: ProjectSpec, f: GenerateFlags): Promise<number> {
  const { io } = f;
  const tree = render(project.answers, { templatesDir: TEMPLATES_DIR, generatorVersion: VERSION, ownedPaths: project.ownedPaths });
  const statuses = fileStatuses(project.dir, tree, (p) => readFileSync(p));
  const shown = displayDir(io.cwd, project.dir);

  if (f.dryRun) {
    printDryRun(tree, statuses, shown, io.stdout);
    return 0;
  }

  const conflicts = [...statuses].filter(([, s]) => s === 'conflict').map(([p]) => p);
  if (conflicts.length > 0 && !f.force) throw new UsageError(`${shown}: ${conflicts.length} generated files already exist (pass --force to overwrite)`);

  if (f.interactive) {
    const { writeInteractive } = await import('./interactive.js');
    return writeInteractive(project, tree, statuses, conflicts, f);
  }
  writeTree(project.dir, tree, statuses);
  for (const c of conflicts) io.stderr.write(`conflict: ${c} existed and differed; overwritten (--force)\n`);
  io.stdout.write(`created ${project.answers.name} in ${shown}: ${tree.size} files\n`);
  const { postGenerate, nextSteps } = await import('./post.js');
  const done = await postGenerate(project, f, (line) => io.stdout.write(`${line}\n`));
  io.stdout.write(`\n${nextSteps(project, shown, done)}\n`);
  return 0;
}
