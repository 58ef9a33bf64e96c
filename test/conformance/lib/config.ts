/**
 * What the conformance suite is pointed at, from the environment only, so the
 * same suite tests any framework, a local container or a service deployed
 * elsewhere. See test/conformance/README.md for every variable.
 */
function env(name: string): string | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : v;
}

function int(name: string, fallback: number): number {
  const v = env(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return n;
}

function onOff(name: string, fallback: boolean): boolean {
  const v = env(name);
  if (v === undefined) return fallback;
  if (/^(1|on|true|yes)$/i.test(v)) return true;
  if (/^(0|off|false|no)$/i.test(v)) return false;
  throw new Error(`${name} must be on or off, got ${JSON.stringify(v)}`);
}

const rawBase = env('CONFORMANCE_BASE_URL');
if (!rawBase) {
  throw new Error(
    'CONFORMANCE_BASE_URL is not set: point the conformance suite at a running service, e.g. CONFORMANCE_BASE_URL=http://127.0.0.1:8000',
  );
}
const baseUrl = new URL(rawBase);
if (baseUrl.protocol !== 'http:' && baseUrl.protocol !== 'https:') {
  throw new Error(`CONFORMANCE_BASE_URL must be http(s), got ${rawBase}`);
}

const apiKey = env('CONFORMANCE_API_KEY');

export const config = {
  /** Base URL without trailing slash, e.g. http://127.0.0.1:18300 */
  baseUrl: rawBase.replace(/\/+$/, ''),
  /** A valid API key; when set the service is expected to have auth on. */
  apiKey,
  /** Whether the service is expected to require an API key. */
  authOn: onOff('CONFORMANCE_AUTH', apiKey !== undefined),
  /** MAX_BODY_BYTES the service runs with. */
  maxBodyBytes: int('CONFORMANCE_MAX_BODY_BYTES', 1_048_576),
  /** MAX_MESSAGE_CHARS the service runs with. */
  maxMessageChars: int('CONFORMANCE_MAX_MESSAGE_CHARS', 8000),
  /** RATE_LIMIT_PER_MINUTE the service runs with (0 = off: the 429 test is skipped). */
  rateLimitPerMinute: int('CONFORMANCE_RATE_LIMIT_PER_MINUTE', 0),
  /** TOKEN_BUDGET_DAILY the service runs with (0 = unlimited: the budget test is skipped). */
  tokenBudgetDaily: int('CONFORMANCE_TOKEN_BUDGET_DAILY', 0),
  /** Whether /docs is expected on. */
  docs: onOff('CONFORMANCE_DOCS', true),
  /** The built-in fake model answers (no LLM_BASE_URL/LLM_API_KEY): enables tool-call checks. */
  fakeModel: onOff('CONFORMANCE_FAKE_MODEL', true),
  /** Number of random bad inputs in the fuzz test. */
  fuzzCount: int('CONFORMANCE_FUZZ_COUNT', 1000),
  /** Seed of the fuzz generator (printed with every failure, to replay it). */
  fuzzSeed: int('CONFORMANCE_FUZZ_SEED', 20240601),
  /** Requests in flight at once in the bulk tests. */
  concurrency: Math.max(1, int('CONFORMANCE_CONCURRENCY', 8)),
  /** Whether /mcp (MCP_SERVER_ENABLED=true) is expected: mcp.test.ts runs only then. */
  mcp: onOff('CONFORMANCE_MCP', false),
  /** A tool of an MCP server configured beside the service (MCP_SERVERS_FILE), exposed
   * as `<server>__echo` by the SDK-built test server: mcp.test.ts calls it through the agent. */
  mcpEchoTool: env('CONFORMANCE_MCP_ECHO_TOOL'),
  /** Per-request timeout, ms. */
  timeoutMs: int('CONFORMANCE_TIMEOUT_MS', 20_000),
} as const;

/** Headers carrying the valid key (both header styles are tested separately). */
export function authHeaders(): Record<string, string> {
  return config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {};
}
