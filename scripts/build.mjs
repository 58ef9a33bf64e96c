// Bundle generators/cli.ts and everything it uses (yeoman-generator, mem-fs,
// clack, ejs, execa) into ONE ESM file, dist/cli.js, so the published package
// has no runtime dependencies. Lazy `import()`s of bundled modules stay lazy
// (esbuild wraps them in on-demand initialisers), so startup only evaluates
// what the path needs.
//
// Several processes may build at once in this shared tree (tests spawn
// dist/cli.js): outputs are written to a temp file and renamed into place, so a
// reader never sees a missing or half-written bundle.
import { build } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const result = await build({
  absWorkingDir: root,
  entryPoints: { cli: 'generators/cli.ts' },
  outdir: 'dist',
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
for (const file of result.outputFiles) {
  mkdirSync(dirname(file.path), { recursive: true });
  const tmp = `${file.path}.${process.pid}.tmp`;
  writeFileSync(tmp, file.contents);
  renameSync(tmp, file.path);
}
if (process.argv.includes('--analyze')) {
  const { analyzeMetafile } = await import('esbuild');
  console.log(await analyzeMetafile(result.metafile));
}
if (process.argv.includes('--verbose')) for (const f of result.outputFiles) console.log(relative(root, f.path), f.contents.length);
