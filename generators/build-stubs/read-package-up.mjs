// read-package-up for yeoman-generator inside the create-agent-service bundle (scripts/build.mjs).
// yeoman-generator calls only readPackageUpSync({ cwd, normalize: false }) (its root generator's
// name and version): the nearest package.json at or above cwd, parsed, not normalized.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unavailable } from './_unavailable.mjs';

export function readPackageUpSync(options = {}) {
  if (options.normalize !== false) return unavailable('read-package-up (normalize: true)')();
  const start = options.cwd instanceof URL ? fileURLToPath(options.cwd) : (options.cwd ?? process.cwd());
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    let text;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      if (dirname(dir) === dir) return undefined;
      continue;
    }
    return { packageJson: JSON.parse(text), path };
  }
}
export const readPackageUp = unavailable('read-package-up (async)');
