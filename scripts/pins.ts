/**
 * `npm run pins`: every version the generated files pin (templates/_pins.json),
 * with its release date and age, oldest first.
 *   npm run pins                      the table
 *   npm run pins -- --json            the same as JSON
 *   npm run pins -- --today 2026-12-01  ages as of that day (default: today, UTC)
 * Renovate (renovate.json) opens the pull requests that move them; this is the
 * maintainer's overview between two of those.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ageInDays, loadPins } from '../generators/app/pins.js';

const { values } = parseArgs({ options: { json: { type: 'boolean' }, today: { type: 'string' } } });
const today = values.today ?? new Date().toISOString().slice(0, 10);
if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) {
  console.error(`--today: expected YYYY-MM-DD, got ${today}`);
  process.exit(2);
}
const pins = loadPins(join(import.meta.dirname, '..', 'templates'));
const rows = [
  ...Object.entries(pins.actions).map(([name, a]) => ({ kind: 'action', name, version: `${a.version} (${a.sha.slice(0, 12)})`, released: a.released })),
  ...Object.entries(pins.images).map(([key, i]) => ({ kind: 'image', name: key, version: `${i.image}:${i.tag}`, released: i.released })),
  ...Object.entries(pins.tools).map(([key, t]) => ({ kind: 'tool', name: key, version: t.version, released: t.released })),
]
  .map((r) => ({ ...r, ageDays: ageInDays(r.released, today) }))
  .sort((a, b) => b.ageDays - a.ageDays || a.name.localeCompare(b.name));

if (values.json) {
  console.log(JSON.stringify({ today, pins: rows }, null, 2));
} else {
  const head = ['kind', 'name', 'version', 'released', 'age (days)'];
  const table = [head, ...rows.map((r) => [r.kind, r.name, r.version, r.released, String(r.ageDays)])];
  const width = head.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  const lines = table.map((row) =>
    row
      .map((c, i) => (i === 4 ? c.padStart(width[i]!) : c.padEnd(width[i]!)))
      .join('  ')
      .trimEnd(),
  );
  process.stdout.write(`${lines.join('\n')}\n\n${rows.length} pins in templates/_pins.json, as of ${today}\n`);
}
