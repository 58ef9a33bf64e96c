/**
 * Answers -> files. Pure: no clock, no randomness, no network, no machine paths.
 * The same function serves create, --dry-run, check, update and the snapshot tests.
 * Conventions: templates/README.md.
 */
import { existsSync, readdirSync, readFileSync, type Stats, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import ejs from 'ejs';
import { type Answers, pythonPackage } from './answers.js';
import { ANSWERS_FILE, DEFAULT_OWNED_PATHS, serializeAnswersFile } from './answers-file.js';
import { layersFor, lockProfile } from './layers.js';
import { loadPins, type PinHelpers, pinHelpers } from './pins.js';
import { q } from './quote.js';

export interface RenderedFile {
  content: Buffer;
  /** 0o644 or 0o755 */
  mode: number;
}

export type RenderedTree = Map<string, RenderedFile>;

export class RenderError extends Error {
  override name = 'RenderError';
}

interface Source {
  layer: string;
  /** path inside the layer, posix */
  rel: string;
  abs: string;
  stat: Stats;
}

/** Every regular file below `dir`: posix paths relative to it, sorted. */
function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(join(dir, entry.name), rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

/** Map a template path to its output path. */
function outputPath(rel: string, pkg: string): string {
  const segments = rel.split('/').map((seg) => {
    let s = seg === '__pkg__' ? pkg : seg;
    if (s.startsWith('dot-')) s = `.${s.slice(4)}`;
    return s;
  });
  const joined = segments.join('/');
  return joined.endsWith('.ejs') ? joined.slice(0, -4) : joined;
}

export interface RenderOptions {
  templatesDir: string;
  generatorVersion: string;
  /** Recorded in the answers file (globs the team owns, skipped by `check`). Default DEFAULT_OWNED_PATHS. */
  ownedPaths?: string[];
}

const EJS_OPTIONS = { async: false, strict: false, rmWhitespace: false, compileDebug: false } as const;

/** pin.* for the templates; the pins file is read on first use (a template set without pins never needs it). */
function lazyPins(templatesDir: string, python: string): PinHelpers {
  let helpers: PinHelpers | undefined;
  const get = (): PinHelpers => (helpers ??= pinHelpers(loadPins(templatesDir), python));
  return {
    action: (n) => get().action(n),
    image: (k) => get().image(k),
    imageName: (k) => get().imageName(k),
    imageTag: (k) => get().imageTag(k),
    tool: (k) => get().tool(k),
  };
}

/** Render every file of every active layer. Throws RenderError; writes nothing. */
export function render(answers: Answers, opts: RenderOptions): RenderedTree {
  const { templatesDir, generatorVersion } = opts;
  const layers = layersFor(answers);
  const pkg = pythonPackage(answers.name);

  const sources: Source[] = [];
  const slotSources = new Map<string, Source[]>();
  for (const layer of layers) {
    const dir = join(templatesDir, layer);
    if (!existsSync(dir)) throw new RenderError(`template layer "${layer}" is missing (${layer} is not implemented yet)`);
    for (const rel of listFiles(dir)) {
      const abs = join(dir, rel);
      const src = { layer, rel, abs, stat: statSync(abs) };
      if (rel.startsWith('_slots/')) {
        const slotName = posix.basename(rel).replace(/\.ejs$/, '');
        if (!slotSources.has(slotName)) slotSources.set(slotName, []);
        slotSources.get(slotName)!.push(src);
      } else if (!rel.startsWith('_')) {
        sources.push(src);
      }
    }
  }

  const context: Record<string, unknown> = {
    ...answers,
    pkg,
    generatorVersion,
    layers,
    q,
    // pinned versions (templates/_pins.json): pin.action(), pin.image(), pin.tool()
    pin: lazyPins(templatesDir, answers.python),
  };

  const renderText = (src: Source): string => {
    const text = readFileSync(src.abs, 'utf8');
    if (!src.rel.endsWith('.ejs')) return text;
    try {
      return ejs.render(text, context, { filename: src.abs, ...EJS_OPTIONS });
    } catch (err) {
      throw new RenderError(`template ${src.layer}/${src.rel} failed to render: ${(err as Error).message.split('\n').pop()}`);
    }
  };

  const slotCache = new Map<string, string[]>();
  const fragments = (slotName: string): string[] => {
    if (!slotCache.has(slotName)) slotCache.set(slotName, (slotSources.get(slotName) ?? []).map(renderText));
    return slotCache.get(slotName)!;
  };
  context.slot = (slotName: string): string => fragments(slotName).join('');
  context.slotLines = (slotName: string): string[] =>
    [
      ...new Set(
        fragments(slotName)
          .flatMap((f) => f.split('\n'))
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('#')),
      ),
    ].sort();
  context.lockFor = (): string => {
    const lockPath = join(templatesDir, 'locks', `${lockProfile(answers)}.uv.lock`);
    if (!existsSync(lockPath)) throw new RenderError(`no lock file for dependency profile ${lockProfile(answers)}; run npm run locks`);
    return readFileSync(lockPath, 'utf8').replaceAll('__PROJECT_NAME__', answers.name);
  };

  const tree: RenderedTree = new Map();
  const owners = new Map<string, string>();
  for (const src of sources) {
    const out = outputPath(src.rel, pkg);
    const previous = owners.get(out);
    if (previous) throw new RenderError(`layers "${previous}" and "${src.layer}" both produce ${out}`);
    owners.set(out, src.layer);
    const executable = (src.stat.mode & 0o111) !== 0;
    let content: Buffer;
    if (src.rel.endsWith('.ejs')) {
      const text = renderText(src);
      if (text.trim() === '') continue;
      content = Buffer.from(text, 'utf8');
    } else {
      content = readFileSync(src.abs);
    }
    tree.set(out, { content, mode: executable ? 0o755 : 0o644 });
  }
  if (tree.has(ANSWERS_FILE)) throw new RenderError(`layer "${owners.get(ANSWERS_FILE)}" produces ${ANSWERS_FILE}, which the renderer writes itself`);
  tree.set(ANSWERS_FILE, {
    content: Buffer.from(serializeAnswersFile({ generatorVersion, answers, ownedPaths: opts.ownedPaths ?? DEFAULT_OWNED_PATHS }), 'utf8'),
    mode: 0o644,
  });
  return new Map([...tree.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Every path some layer could emit for service `name`, whatever the other answers
 * (templates/README.md naming rules): check reports a project file at one of them
 * that these answers do not emit as "added".
 */
export function everyLayerPath(templatesDir: string, name: string): Set<string> {
  const pkg = pythonPackage(name);
  const out = new Set<string>();
  for (const e of readdirSync(templatesDir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name === 'locks' || e.name.startsWith('_') || e.name.startsWith('.')) continue;
    for (const rel of listFiles(join(templatesDir, e.name))) if (!rel.startsWith('_')) out.add(outputPath(rel, pkg));
  }
  return out;
}
