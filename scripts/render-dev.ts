/**
 * Developer helper for template authors: render a tree from answers given as
 * key=value pairs into an empty directory, without the CLI.
 *   npx tsx scripts/render-dev.ts OUT_DIR name=my-agent store=redis framework=fastapi
 * The real entry point is the CLI (generators/cli.ts).
 */
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Answers } from '../generators/app/answers.js';
import { render } from '../generators/app/render.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const [outDir, ...pairs] = process.argv.slice(2);
if (!outDir) {
  console.error('usage: tsx scripts/render-dev.ts OUT_DIR [key=value ...]');
  process.exit(2);
}
const answers: Answers = {
  name: 'my-agent',
  description: 'An LLM agent service',
  owner: 'acme',
  image: 'ghcr.io/acme/my-agent',
  host: 'my-agent.example.com',
  port: 8000,
  framework: 'fastapi',
  observability: 'prometheus',
  store: 'memory',
  ci: 'github',
  k8s: 'kustomize',
  python: '3.12',
  replicas: 1,
};
for (const pair of pairs) {
  const [k, v] = pair.split('=') as [keyof Answers, string];
  (answers as unknown as Record<string, unknown>)[k] = k === 'port' || k === 'replicas' ? Number(v) : v;
}
if (existsSync(outDir) && readdirSync(outDir).length > 0) {
  console.error(`${outDir} is not empty`);
  process.exit(2);
}
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version as string;
const tree = render(answers, { templatesDir: join(root, 'templates'), generatorVersion: version });
for (const [path, file] of tree) {
  const target = join(outDir, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, file.content);
  chmodSync(target, file.mode);
}
console.log(`${tree.size} files written to ${outDir}`);
