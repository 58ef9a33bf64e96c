/**
 * Reading the small files the generator takes as input (--preset, --answers, a
 * project's .agent-service.json) with a size bound: a path such as /dev/zero or
 * a multi-gigabyte file must fail with one line, not exhaust memory.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { UsageError } from './errors.js';

/** 1 MiB: an answers file is well under 2 KiB. */
export const INPUT_FILE_MAX = 1 << 20;

/**
 * The file's text (UTF-8), read at most `limit` bytes; a UsageError naming `where`
 * when it cannot be read or is larger. Works for devices and pipes, whose size
 * fstat does not know, by reading one byte past the limit.
 */
export function readBoundedText(path: string, where: string, limit = INPUT_FILE_MAX): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`${where}: cannot read the file (${code === 'ENOENT' ? 'no such file' : (code ?? 'error')})`);
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new UsageError(`${where}: cannot read the file (it is a directory)`);
    const tooBig = () => new UsageError(`${where}: larger than ${limit / 1024} KiB; an answers or preset file is a small JSON object`);
    if (st.isFile() && st.size > limit) throw tooBig();
    const buf = Buffer.alloc(limit + 1);
    let n = 0;
    for (;;) {
      let r: number;
      try {
        r = readSync(fd, buf, n, buf.length - n, null);
      } catch (err) {
        throw new UsageError(`${where}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      if (r === 0) break;
      n += r;
      if (n > limit) throw tooBig();
    }
    return buf.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
