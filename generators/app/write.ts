/**
 * Commit a rendered tree to disk through yeoman-generator's in-memory file
 * system (mem-fs + mem-fs-editor): every file is rendered and staged in memory
 * first, then committed in one pass. Nothing is written when rendering fails.
 *
 * yeoman-environment (the usual runner) is not used: importing it costs ~1.5 s.
 * The generator is hosted by a minimal environment (cwd, sharedFs, adapter) and
 * its `writing` phase is driven directly.
 */

import type { Stats } from 'node:fs';
import { resolve } from 'node:path';
import { Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { create as createMemFs } from 'mem-fs';
import { createCommitTransform } from 'mem-fs-editor/transform';
import Generator from 'yeoman-generator';
import type { RenderedTree } from './render.js';

interface MinimalEnv {
  cwd: string;
  sharedFs: ReturnType<typeof createMemFs>;
  adapter: { log: (...args: unknown[]) => void };
  getVersion: () => undefined;
}

class ServiceGenerator extends Generator {
  declare tree: RenderedTree;

  writing(): void {
    for (const [rel, file] of this.tree) {
      this.fs.write(this.destinationPath(rel), file.content, { stat: { mode: file.mode } as Stats });
    }
  }
}

/** How many files mem-fs-editor writes at once (its own commit writes one at a time). */
const COMMIT_LANES = 8;

/**
 * A commit pipeline stage that runs mem-fs-editor's own commit transform in
 * COMMIT_LANES lanes, so the files' filesystem calls (stat, mkdir, write,
 * chmod) overlap instead of running one file after another. Every file is
 * written exactly as mem-fs-editor writes it and its commit state cleared; the
 * files then go on to the commit's final transform, which has nothing left to
 * write for them. A failure in any lane fails the commit.
 */
function concurrentCommit(): Transform {
  const lanes = Array.from({ length: COMMIT_LANES }, () => createCommitTransform().resume());
  const files: unknown[] = [];
  return new Transform({
    objectMode: true,
    transform(file, _encoding, callback) {
      lanes[files.length % COMMIT_LANES]!.write(file);
      files.push(file);
      callback();
    },
    flush(callback) {
      for (const lane of lanes) lane.end();
      Promise.all(lanes.map((lane) => finished(lane))).then(() => {
        for (const file of files) this.push(file);
        callback();
      }, callback);
    },
  });
}

/** Stage every file in mem-fs, then commit them (and only them) to `dir`. */
export async function commitTree(dir: string, tree: RenderedTree): Promise<void> {
  const root = resolve(dir);
  const log = Object.assign(() => {}, { write() {}, writeln() {}, ok() {}, error() {}, info() {} });
  const env: MinimalEnv = { cwd: root, sharedFs: createMemFs(), adapter: { log }, getVersion: () => undefined };
  const gen = new ServiceGenerator([], {
    env: env as never,
    resolved: import.meta.filename ?? root,
    namespace: 'agent-service:app',
    destinationRoot: root,
    skipCache: true,
    localConfigOnly: true,
  } as never);
  gen.tree = tree;
  gen.writing();
  const ours = new Set([...tree.keys()].map((rel) => resolve(root, rel)));
  await gen.fs.commit({ filter: (f: { path: string }) => ours.has(f.path) } as never, concurrentCommit() as never);
}
