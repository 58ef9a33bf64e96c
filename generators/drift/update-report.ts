/** What `update` prints: the answers it filled in, one line per file of the plan, the summary. */
import type { Action, FilePlan } from './update-plan.js';

const LABEL: Record<Action, string> = {
  update: 'update',
  keep: 'keep',
  merge: 'merge',
  conflict: 'CONFLICT',
  add: 'add',
  delete: 'delete',
  unchanged: 'same',
  owned: 'owned',
};

/** How the summary names `n` files with this action. */
const SUMMARY_WORD: Record<Action, (n: number) => string> = {
  update: () => 'updated',
  add: () => 'added',
  delete: () => 'deleted',
  merge: () => 'merged',
  conflict: (n) => `conflict${n === 1 ? '' : 's'}`,
  keep: () => 'kept',
  owned: () => 'owned (ownedPaths)',
  unchanged: () => 'unchanged',
};

export interface AnswerNotes {
  /** answers to new options asked interactively */
  given: string[];
  /** new options filled with their defaults, and why they were not asked */
  defaulted: string[];
  defaultReason: string;
  /** options the target version no longer has */
  dropped: string[];
  /** the answers as the target version renders them, and as the file had them */
  answers: Record<string, unknown>;
  recorded: Record<string, unknown>;
  to: string;
}

export function answerLines(n: AnswerNotes): string[] {
  return [
    ...n.given.map((k) => `  answer   ${k} = ${JSON.stringify(n.answers[k])} (new option in ${n.to}; your answer)`),
    ...n.defaulted.map((k) => `  answer   ${k} = ${JSON.stringify(n.answers[k])} (new option in ${n.to}; default${n.defaultReason})`),
    ...n.dropped.map((k) => `  answer   ${k} dropped (${n.to} no longer has this option; was ${JSON.stringify(n.recorded[k])})`),
  ];
}

/** One line per file that changes or needs attention (unchanged and owned files are only counted). */
export function planLines(plan: readonly FilePlan[]): string[] {
  const shown = plan.filter((p) => p.action !== 'unchanged' && p.action !== 'owned');
  const width = Math.max(8, ...shown.map((p) => p.path.length));
  return shown.map((p) => `  ${LABEL[p.action].padEnd(8)} ${p.path.padEnd(width)}  ${p.reason}`);
}

/** "2 updated, 1 merged, 40 unchanged", or '' when the plan is empty. */
export function planSummary(plan: readonly FilePlan[]): string {
  const count = (a: Action) => plan.filter((p) => p.action === a).length;
  return (['update', 'add', 'delete', 'merge', 'conflict', 'keep', 'owned', 'unchanged'] as Action[])
    .filter((a) => count(a) > 0)
    .map((a) => `${count(a)} ${SUMMARY_WORD[a](count(a))}`)
    .join(', ');
}
