/** Escapers for values interpolated into generated files (ejs context `q`). */
const jsonString = (s: string): string => JSON.stringify(s);

export const q = {
  /** JSON string literal. */
  json: jsonString,
  /** YAML double-quoted scalar (JSON strings are valid YAML double-quoted scalars). */
  yaml: (s: string): string => jsonString(s).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  /** TOML basic string. */
  toml: (s: string): string =>
    '"' +
    [...s]
      .map((c) => {
        const code = c.codePointAt(0)!;
        if (c === '"') return '\\"';
        if (c === '\\') return '\\\\';
        if (code < 0x20 || code === 0x7f) return `\\u${code.toString(16).padStart(4, '0')}`;
        return c;
      })
      .join('') +
    '"',
  /** Python string literal (double-quoted, ASCII-safe escapes). */
  py: (s: string): string =>
    '"' +
    [...s]
      .map((c) => {
        const code = c.codePointAt(0)!;
        if (c === '"') return '\\"';
        if (c === '\\') return '\\\\';
        if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, '0')}`;
        return c;
      })
      .join('') +
    '"',
  /** A single-quoted POSIX shell word. */
  sh: (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`,
  /** Inline Markdown text: no HTML, no link/emphasis syntax surprises. */
  md: (s: string): string => s.replace(/[\\`*_{}[\]()<>#+!|~]/g, (c) => `\\${c}`),
};
