import type { Answers } from './answers.js';

/** The template layers for a set of answers, in render order (see templates/README.md). */
export function layersFor(a: Answers): string[] {
  const layers = ['base', 'python', 'agent-core', a.framework];
  if (a.store !== 'memory') layers.push(`store-${a.store}`);
  layers.push(`observability-${a.observability}`, 'evals', 'docker', 'compose');
  if (a.ci !== 'none') layers.push(`ci-${a.ci}`);
  if (a.k8s !== 'none') layers.push(`k8s-${a.k8s}`);
  return layers;
}

/** The dependency profile a lock file is kept for. */
export function lockProfile(a: Pick<Answers, 'framework' | 'observability' | 'store'>): string {
  return `${a.framework}-${a.observability}-${a.store}`;
}
