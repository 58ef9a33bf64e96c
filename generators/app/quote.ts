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

/** [tool.ruff] line-length of the generated pyproject.toml (templates/python/pyproject.toml.ejs). */
export const PY_LINE_LENGTH = 100;

export const q = {
  /** JSON string literal. */
  json: jsonString,
  /** YAML double-quoted scalar (JSON strings are valid YAML double-quoted scalars). */
  yaml: (s: string): string => jsonString(s).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  /** TOML basic string. */
  toml: (s: string): string => doubleQuoted(s, (code) => `\\u${code.toString(16).padStart(4, '0')}`),
  /**
   * Python string literal, as `ruff format` keeps it, so a generated project passes
   * its own `ruff format --check` and `ruff check`: double quotes unless the text has
   * more `"` than `'` (ruff's rule: the quote needing fewer escapes, ties to double);
   * every non-ASCII character as a lowercase \x/\u/\U escape (ruff's spelling), so
   * RUF001 never flags an ambiguous character (en dash, Cyrillic a) in the source.
   */
  py: (s: string): string => {
    const chars = [...s];
    const doubles = chars.filter((c) => c === '"').length;
    const singles = chars.filter((c) => c === "'").length;
    const quote = doubles > singles ? "'" : '"';
    const hex = (code: number, width: number) => code.toString(16).padStart(width, '0');
    const body = chars
      .map((c) => {
        const code = c.codePointAt(0)!;
        if (c === quote) return `\\${c}`;
        if (c === '\\') return '\\\\';
        if (code < 0x20 || (code >= 0x7f && code <= 0xff)) return `\\x${hex(code, 2)}`;
        if (code > 0xffff) return `\\U${hex(code, 8)}`;
        if (code > 0x7f) return `\\u${hex(code, 4)}`;
        return c;
      })
      .join('');
    return `${quote}${body}${quote}`;
  },
  /**
   * `target = <Python literal>` at module level, laid out as `ruff format` does with the
   * generated pyproject's line-length: one line when it fits; else the literal alone in
   * parentheses when that fits; else one line (ruff does not split a string).
   */
  pyAssign: (target: string, s: string): string => {
    const lit = q.py(s);
    const line = `${target} = ${lit}`;
    if (line.length <= PY_LINE_LENGTH || 4 + lit.length > PY_LINE_LENGTH) return line;
    return `${target} = (\n    ${lit}\n)`;
  },
  /** A single-quoted POSIX shell word. */
  sh: (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`,
  /**
   * One paragraph of literal Markdown text: inline syntax (emphasis, links, code,
   * HTML, entities) escaped everywhere, and a line start that would open a block
   * (heading, quote, list item `-` `+` `*` `1.` `1)`, rule `---`, setext `===`) escaped too.
   */
  md: (s: string): string =>
    s
      .replace(/[\\`*_{}[\]()<>#+!|~&]/g, (c) => `\\${c}`)
      .replace(/^([-=])/, '\\$1')
      .replace(/^(\d+)([.)])/, '$1\\$2'),
};
