/** Escapers for values interpolated into generated files (ejs context `q`). */
const jsonString = (s: string): string => JSON.stringify(s);

/** s in double quotes: `"` and backslash escaped with a backslash, each control character (C0, DEL) as `control` writes it. */
function doubleQuoted(s: string, control: (code: number) => string): string {
  const body = [...s].map((c) => {
    const code = c.codePointAt(0)!;
    if (c === '"' || c === '\\') return `\\${c}`;
    return code < 0x20 || code === 0x7f ? control(code) : c;
  });
  return `"${body.join('')}"`;
}

export const q = {
  /** JSON string literal. */
  json: jsonString,
  /** YAML double-quoted scalar (JSON strings are valid YAML double-quoted scalars). */
  yaml: (s: string): string => jsonString(s).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  /** TOML basic string. */
  toml: (s: string): string => doubleQuoted(s, (code) => `\\u${code.toString(16).padStart(4, '0')}`),
  /** Python string literal (double-quoted, ASCII-safe escapes). */
  py: (s: string): string => doubleQuoted(s, (code) => `\\x${code.toString(16).padStart(2, '0')}`),
  /** A single-quoted POSIX shell word. */
  sh: (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`,
  /** Inline Markdown text: no HTML, no link/emphasis syntax surprises. */
  md: (s: string): string => s.replace(/[\\`*_{}[\]()<>#+!|~]/g, (c) => `\\${c}`),
};
