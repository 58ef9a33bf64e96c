// The writer of `create`: new files created exclusively with their exact mode, --force
// conflicts replaced by rename, identical files left alone, and a failed write leaves
// nothing of its own behind (the files it created, its temporary files, its directories).
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RenderedTree } from '../../generators/app/render.js';
import { writeTree } from '../../generators/app/write.js';
import { fileStatuses } from '../../generators/app/write-check.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'cas-write-'));
const file = (text: string, mode = 0o644) => ({ content: Buffer.from(text), mode });
const tree = (entries: [string, ReturnType<typeof file>][]): RenderedTree => new Map(entries);
const statusesOf = (dir: string, t: RenderedTree) => fileStatuses(dir, t, (p) => readFileSync(p));

/** Every path below dir, posix, sorted (directories end with /). */
function listing(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(`${rel}/`, ...listing(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

describe('writeTree', () => {
  it('creates every file with its content and exact mode, directories included', () => {
    const dir = join(tmp(), 'svc');
    const t = tree([
      ['a/b/c.txt', file('c\n')],
      ['run.sh', file('#!/bin/sh\n', 0o755)],
      ['z.txt', file('')],
    ]);
    writeTree(dir, t, statusesOf(dir, t));
    expect(listing(dir)).toEqual(['a/', 'a/b/', 'a/b/c.txt', 'run.sh', 'z.txt']);
    expect(readFileSync(join(dir, 'a/b/c.txt'), 'utf8')).toBe('c\n');
    expect(statSync(join(dir, 'run.sh')).mode & 0o777).toBe(0o755);
    expect(statSync(join(dir, 'a/b/c.txt')).mode & 0o777).toBe(0o644);
    expect(readFileSync(join(dir, 'z.txt'), 'utf8')).toBe('');
  });

  it('--force: a differing file is replaced whole (no temporary file left), an identical one is not touched', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'README.md'), 'local edit\n');
    writeFileSync(join(dir, 'same.txt'), 'same\n');
    const before = statSync(join(dir, 'same.txt'));
    const t = tree([
      ['README.md', file('# svc\n')],
      ['same.txt', file('same\n')],
    ]);
    const statuses = statusesOf(dir, t);
    expect([...statuses.values()]).toEqual(['conflict', 'identical']);
    writeTree(dir, t, statuses);
    expect(readFileSync(join(dir, 'README.md'), 'utf8')).toBe('# svc\n');
    expect(statSync(join(dir, 'same.txt')).mtimeMs).toBe(before.mtimeMs);
    expect(statSync(join(dir, 'same.txt')).ino).toBe(before.ino);
    expect(listing(dir)).toEqual(['README.md', 'same.txt']);
  });

  it('never overwrites a file that appeared after the check, and removes what it had written', () => {
    const parent = tmp();
    const dir = join(parent, 'svc');
    const t = tree([
      ['a/one.txt', file('1\n')],
      ['b/two.txt', file('2\n')],
      ['c/late.txt', file('ours\n')],
    ]);
    const statuses = statusesOf(dir, t);
    // between the check and the write, someone else creates one of the files
    mkdirSync(join(dir, 'c'), { recursive: true });
    writeFileSync(join(dir, 'c/late.txt'), 'theirs\n');
    expect(() => writeTree(dir, t, statuses)).toThrow(/EEXIST/);
    expect(readFileSync(join(dir, 'c/late.txt'), 'utf8')).toBe('theirs\n');
    expect(listing(dir)).toEqual(['c/', 'c/late.txt']);
  });

  it('a failed write into a new DIR leaves no directory behind', () => {
    const parent = tmp();
    const dir = join(parent, 'svc');
    const t = tree([
      ['a/one.txt', file('1\n')],
      ['b/x/two.txt', file('2\n')],
    ]);
    const statuses = statusesOf(dir, t);
    // the second file's directory turns into a file meanwhile: mkdir fails
    mkdirSync(join(dir, 'b'), { recursive: true });
    writeFileSync(join(dir, 'b/x'), 'a file\n');
    expect(() => writeTree(dir, t, statuses)).toThrow();
    expect(listing(dir)).toEqual(['b/', 'b/x']);
    expect(existsSync(join(dir, 'a'))).toBe(false);
  });

  it('never follows a symbolic link put where a new file goes', () => {
    const dir = tmp();
    const outside = join(tmp(), 'target.txt');
    const t = tree([['x.txt', file('ours\n')]]);
    const statuses = statusesOf(dir, t);
    symlinkSync(outside, join(dir, 'x.txt'));
    expect(() => writeTree(dir, t, statuses)).toThrow(/EEXIST/);
    expect(existsSync(outside)).toBe(false);
    expect(lstatSync(join(dir, 'x.txt')).isSymbolicLink()).toBe(true);
  });
});
