/** Types the create command's modules share (create.ts, generate.ts, interactive.ts, post.ts). */
import type { OptionKey, PartialAnswers, ResolvedAnswers } from './app/options.js';
import type { Io } from './io.js';

/** What to generate and where: complete answers, the target directory, the team's ownedPaths. */
export interface ProjectSpec {
  answers: ResolvedAnswers;
  dir: string;
  /** undefined: the defaults (DEFAULT_OWNED_PATHS) */
  ownedPaths: string[] | undefined;
}

/** How to generate: the run options of the command line. */
export interface GenerateFlags {
  io: Io;
  interactive: boolean;
  dryRun: boolean;
  force: boolean;
  git: boolean;
  install: boolean;
}

/** One source of answers (a preset, the DIR name, flags...), and how to name it in a message about key `k`. */
export interface AnswerLayer {
  values: PartialAnswers;
  origin: (k: OptionKey) => string;
}
