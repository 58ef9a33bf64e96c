// Build the published bundle into dist/ (npm run build; also run by the tests):
//
//   dist/cli.js           entry (generators/cli.ts, create.ts): argument parsing, options, --help, --version
//   dist/<name>-<hash>.js ESM chunks, one per lazily imported path: rendering and
//                         writing, the interactive UI (clack), post-generation
//                         steps (execa), check/update. A path loads only the chunks
//                         it imports, so --version never evaluates ejs or clack.
//
// Templates are compiled at run time from templates/: a precompiled pack of them
// was measured to save nothing measurable on generation (scripts/bench/generator.mjs,
// 491.5 ms with it, 487.3 ms without, median of 10), so there is none.
//
// Everything the CLI uses is bundled: the published package has no runtime
// dependencies.
//
// Several processes may build at once in this shared tree (tests spawn the
// CLI): every output is written to a temp file and renamed into place, chunks
// first and cli.js last, so a reader never sees a missing or half-written file.
// Chunk names are content hashes; chunks of older builds are removed once they
// are a minute old (a CLI started from an older cli.js may still import them),
// or at once when packing (prepack).

import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const dist = join(root, 'dist');

const writeAtomic = (path, contents) => {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
};

const result = await build({
  absWorkingDir: root,
  entryPoints: { cli: 'generators/cli.ts' },
  outdir: 'dist',
  // chunks sit beside cli.js: generators/paths.ts finds the package root as `..` of any of them
  chunkNames: '[name]-[hash]',
  splitting: true,
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  minify: true,
  legalComments: 'linked',
  define: { __GENERATOR_VERSION__: JSON.stringify(pkg.version) },
  // some CommonJS dependencies call require() on node builtins
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  metafile: true,
  write: false,
  logLevel: 'warning',
});

const entry = join(dist, 'cli.js');
const outputs = result.outputFiles.sort((a, b) => (a.path === entry) - (b.path === entry));
for (const file of outputs) writeAtomic(file.path, file.contents);

const keep = new Set(outputs.map((f) => f.path));
const packing = process.env.npm_lifecycle_event === 'prepack' || process.argv.includes('--clean');
for (const name of readdirSync(dist)) {
  const path = join(dist, name);
  if (keep.has(path) || name.endsWith('.tmp')) continue;
  try {
    if (packing || Date.now() - statSync(path).mtimeMs > 60_000) rmSync(path, { force: true, recursive: true });
  } catch {
    // removed by a concurrent build
  }
}

if (process.argv.includes('--analyze')) {
  const { analyzeMetafile } = await import('esbuild');
  console.log(await analyzeMetafile(result.metafile));
}
if (process.argv.includes('--verbose')) {
  for (const f of outputs) console.log(relative(root, f.path), f.contents.length);
}
