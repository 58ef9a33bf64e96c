/**
 * Pinned versions: templates/_pins.json is the one source of every version a
 * generated file pins (actions by full commit SHA, images by exact tag, tools).
 * The renderer hands templates `pin.action(name)`, `pin.image(key)` and
 * `pin.tool(key)`; an unknown name is a render error, never a silent default.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const PINS_FILE = '_pins.json';

export interface ActionPin {
  version: string;
  sha: string;
  released: string;
}
export interface ImagePin {
  image: string;
  /** may hold `{python}` (the --python answer) and `{uv}` (tools.uv) */
  tag: string;
  released: string;
  datasource: string;
  note?: string;
}
export interface ToolPin {
  version: string;
  released: string;
  datasource: string;
  package: string;
  note?: string;
}
export interface Pins {
  actions: Record<string, ActionPin>;
  images: Record<string, ImagePin>;
  tools: Record<string, ToolPin>;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const SHA = /^[0-9a-f]{40}$/;

/** Read and check templates/_pins.json. Throws with the offending entry named. */
export function loadPins(templatesDir: string): Pins {
  const raw = JSON.parse(readFileSync(join(templatesDir, PINS_FILE), 'utf8')) as Pins;
  const bad = (what: string): never => {
    throw new Error(`${PINS_FILE}: ${what}`);
  };
  for (const [name, a] of Object.entries(raw.actions ?? bad('no "actions"'))) {
    if (!SHA.test(a.sha)) bad(`actions.${name}.sha is not a full commit SHA`);
    if (!/^v\d+(\.\d+)*$/.test(a.version)) bad(`actions.${name}.version is not a release tag (vX.Y.Z)`);
    if (!DATE.test(a.released)) bad(`actions.${name}.released is not YYYY-MM-DD`);
  }
  for (const [key, i] of Object.entries(raw.images ?? bad('no "images"'))) {
    if (!i.image || !i.tag || /latest/.test(i.tag) || /^\{python\}$/.test(i.tag)) bad(`images.${key} needs an image and an exact tag`);
    if (!DATE.test(i.released)) bad(`images.${key}.released is not YYYY-MM-DD`);
  }
  for (const [key, t] of Object.entries(raw.tools ?? bad('no "tools"'))) {
    if (!t.version) bad(`tools.${key} has no version`);
    if (!DATE.test(t.released)) bad(`tools.${key}.released is not YYYY-MM-DD`);
  }
  return raw;
}

export interface PinHelpers {
  /** `owner/repo@<sha> # vX.Y.Z`, for a workflow's `uses:` */
  action(name: string): string;
  /** `image:tag` */
  image(key: string): string;
  /** the image name alone (no tag) */
  imageName(key: string): string;
  /** the tag alone */
  imageTag(key: string): string;
  /** a tool's version string */
  tool(key: string): string;
}

export function pinHelpers(pins: Pins, python: string): PinHelpers {
  const need = <T>(table: Record<string, T>, kind: string, key: string): T => {
    const v = Object.hasOwn(table, key) ? table[key] : undefined;
    if (!v) throw new Error(`${kind} "${key}" is not pinned in templates/${PINS_FILE}`);
    return v;
  };
  const tag = (key: string): string =>
    need(pins.images, 'image', key)
      .tag.replaceAll('{python}', python)
      .replaceAll('{uv}', () => need(pins.tools, 'tool', 'uv').version);
  return {
    action: (name) => {
      const a = need(pins.actions, 'action', name);
      return `${name}@${a.sha} # ${a.version}`;
    },
    image: (key) => `${need(pins.images, 'image', key).image}:${tag(key)}`,
    imageName: (key) => need(pins.images, 'image', key).image,
    imageTag: tag,
    tool: (key) => need(pins.tools, 'tool', key).version,
  };
}

/** Whole days from `released` to `today` (both YYYY-MM-DD). */
export function ageInDays(released: string, today: string): number {
  return Math.round((Date.parse(`${today}T00:00:00Z`) - Date.parse(`${released}T00:00:00Z`)) / 86_400_000);
}
