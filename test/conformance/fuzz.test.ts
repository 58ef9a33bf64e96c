// 1,000 (CONFORMANCE_FUZZ_COUNT) random bad inputs: fuzzed JSON, wrong types, huge
// strings, deep nesting, invalid UTF-8, odd content types, odd paths and headers.
// Never a 5xx, never a dropped connection; every error is the contract's JSON shape
// with the common headers. Deterministic from CONFORMANCE_FUZZ_SEED.
import { describe, expect, it } from 'vitest';
import { authHeaders, config } from './lib/config.js';
import { pool, request, type Req, type Res } from './lib/http.js';
import { expectCommonHeaders, expectErrorShape } from './lib/shapes.js';

/** mulberry32: small, seedable, good enough for test inputs. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  return { next, int, pick };
}
type R = ReturnType<typeof rng>;

interface Case extends Req {
  kind: string;
}

const ROUTES = ['/v1/chat', '/v1/chat/stream'] as const;
const JSON_CT = 'application/json';

const validBodies = [
  { message: 'hello' },
  { message: 'what is 6*7', session_id: 'fuzz-session_1' },
  { message: 'hi', user_id: 'u1', session_id: 's1' },
];

function randomJunkString(r: R, n: number): string {
  const alphabet = ['{', '}', '[', ']', '"', ':', ',', '\\', ' ', 'a', '0', '-', '.', 'e', 'n', 't', 'u', '\u0000', '\u2028', '😀', 'é', '\n'];
  let s = '';
  for (let i = 0; i < n; i++) s += r.pick(alphabet);
  return s;
}

function mutateJson(r: R): Case {
  let s = JSON.stringify(r.pick(validBodies));
  const n = r.int(1, 4);
  for (let i = 0; i < n; i++) {
    const at = r.int(0, s.length);
    switch (r.int(0, 5)) {
      case 0: s = s.slice(0, at) + s.slice(at + 1); break; // delete
      case 1: s = s.slice(0, at) + randomJunkString(r, r.int(1, 3)) + s.slice(at); break; // insert
      case 2: s = s.slice(0, at) + randomJunkString(r, 1) + s.slice(at + 1); break; // replace
      case 3: s = s.slice(0, Math.max(1, at)); break; // truncate
      case 4: s = s.slice(0, at) + s.slice(r.int(0, s.length)); break; // splice
      default: s = s + s.slice(0, at); break; // trailing garbage
    }
  }
  return { kind: 'fuzzed-json', path: r.pick(ROUTES), headers: { 'content-type': JSON_CT }, body: s };
}

const wrongValues = (r: R): unknown =>
  r.pick([
    () => r.int(-1e9, 1e9),
    () => r.next() * 1e308,
    () => true,
    () => false,
    () => null,
    () => [],
    () => ['hello'],
    () => ({}),
    () => ({ text: 'hello' }),
    () => [[[[['deep']]]]],
    () => '',
    () => ' '.repeat(r.int(1, 10)),
  ])();

function wrongTypes(r: R): Case {
  const body: Record<string, unknown> = { message: 'hello' };
  const field = r.pick(['message', 'session_id', 'user_id', 'message', 'both'] as const);
  if (field === 'both') {
    body.message = wrongValues(r);
    body.session_id = wrongValues(r);
  } else body[field] = wrongValues(r);
  if (r.next() < 0.3) body[randomJunkString(r, r.int(1, 8))] = wrongValues(r);
  const top = r.next() < 0.15 ? r.pick([[body], 'hello', 42, null, true] as unknown[]) : body;
  return { kind: `wrong-type:${field}`, path: r.pick(ROUTES), headers: { 'content-type': JSON_CT }, body: JSON.stringify(top) };
}

function hugeStrings(r: R): Case {
  const max = Math.min(config.maxBodyBytes - 256, 400_000);
  const which = r.int(0, 5);
  let body: string;
  let kind: string;
  if (which === 0) {
    kind = 'huge-message';
    body = JSON.stringify({ message: 'x'.repeat(r.int(config.maxMessageChars + 1, Math.max(config.maxMessageChars + 2, max))) });
  } else if (which === 1) {
    kind = 'huge-session-id';
    body = JSON.stringify({ message: 'hi', session_id: 'a'.repeat(r.int(65, 100_000)) });
  } else if (which === 2) {
    kind = 'huge-key';
    body = JSON.stringify({ message: 'hi', ['k'.repeat(r.int(1000, 100_000))]: 1 });
  } else if (which === 3) {
    kind = 'huge-integer'; // Python refuses ints over 4300 digits: must not become a 500
    body = `{"message": "hi", "session_id": ${'9'.repeat(r.int(4301, 20_000))}}`;
  } else if (which === 4) {
    kind = 'many-keys';
    const o: Record<string, number> = { message: 1 };
    for (let i = 0; i < r.int(1000, 20_000); i++) o[`k${i}`] = i;
    body = JSON.stringify(o);
  } else {
    kind = 'huge-unicode-message';
    body = JSON.stringify({ message: '😀'.repeat(r.int(config.maxMessageChars, config.maxMessageChars * 4)) });
  }
  return { kind, path: r.pick(ROUTES), headers: { 'content-type': JSON_CT }, body };
}

function deepNesting(r: R): Case {
  const depth = r.pick([500, 1000, 5000, 20_000, 100_000]);
  const open = r.pick(['[', '{"a":']);
  const close = open === '[' ? ']' : '}';
  const inner = open === '[' ? '1' : '1';
  const body = r.next() < 0.5 ? open.repeat(depth) + inner + close.repeat(depth) : `{"message": ${open.repeat(depth)}${inner}${close.repeat(depth)}}`;
  return { kind: `deep-nesting-${depth}`, path: r.pick(ROUTES), headers: { 'content-type': JSON_CT }, body };
}

function invalidUtf8(r: R): Case {
  const bad = r.pick([
    [0xff],
    [0xfe, 0xff],
    [0xc3, 0x28], // bad continuation
    [0xc0, 0xaf], // overlong
    [0xed, 0xa0, 0x80], // UTF-16 surrogate as UTF-8
    [0xf4, 0x90, 0x80, 0x80], // over U+10FFFF
    [0xe2, 0x82], // truncated
    [0x80],
  ]);
  const where = r.int(0, 2);
  const parts =
    where === 0
      ? ['{"message": "hel', '"}']
      : where === 1
        ? ['{"mess', 'age": "hello"}']
        : ['{"message": "hello", "session_id": "s', '"}'];
  const body = Buffer.concat([Buffer.from(parts[0]!), Buffer.from(bad), Buffer.from(parts[1]!)]);
  return { kind: 'invalid-utf8', path: r.pick(ROUTES), headers: { 'content-type': r.pick([JSON_CT, 'application/json; charset=utf-8']) }, body };
}

function badEscapes(r: R): Case {
  const esc = r.pick(['\\ud800', '\\udfff', '\\ud800\\ud800', '\\u0000', '\\x41', '\\u12', '\\', '\\q', '\\uZZZZ', '\\ud83d']);
  const body = r.next() < 0.5 ? `{"message": "a${esc}b"}` : `{"message": "hi", "session_id": "s${esc}"}`;
  return { kind: 'json-escape', path: r.pick(ROUTES), headers: { 'content-type': JSON_CT }, body };
}

function oddNumbers(r: R): Case {
  const v = r.pick(['NaN', 'Infinity', '-Infinity', '1e999', '-0', '0x10', '01', '.5', '1.', '+1', '1e-999']);
  return { kind: 'odd-number', path: r.pick(ROUTES), headers: { 'content-type': JSON_CT }, body: `{"message": ${v}}` };
}

function duplicateKeys(r: R): Case {
  const body = r.pick(['{"message":"a","message":1}', '{"message":1,"message":"a"}', '{"message":"a","session_id":"x","session_id":"bad id"}']);
  return { kind: 'duplicate-keys', path: r.pick(ROUTES), headers: { 'content-type': JSON_CT }, body };
}

function oddContentTypes(r: R): Case {
  const ct = r.pick([
    'text/plain',
    'text/html',
    'application/xml',
    'application/x-www-form-urlencoded',
    'multipart/form-data',
    'multipart/form-data; boundary=----x',
    'application/octet-stream',
    'application/json-patch+json',
    'application/jsonx',
    'application/',
    '/json',
    '*/*',
    ';;;',
    'application/json; charset=utf-16',
    'application/json; charset=latin-1',
    'application/json; boundary="',
    'APPLICATION/JSON',
    'application/json ; charset = "utf-8"',
    'text/event-stream',
    'image/png',
    'é/ü',
  ]);
  const body = r.next() < 0.7 ? JSON.stringify(r.pick(validBodies)) : r.pick(['message=hello', '<message>hi</message>', '\u0000\u0001\u0002', '']);
  const headers: Record<string, string> = { 'content-type': ct };
  return { kind: `content-type`, path: r.pick(ROUTES), headers, body };
}

function oddRequests(r: R): Case {
  const method = r.pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
  const path = r.pick([
    '/v1/chat/',
    '/v1//chat',
    '/v1/chat/../chat',
    '/v1/chat%2Fstream',
    '/%ff%fe',
    '/v1/chat?x=%ff',
    '/v1/chat?' + 'a=1&'.repeat(r.int(10, 500)),
    '/' + 'a'.repeat(r.int(100, 4000)),
    '/v1/%00',
    '/health/../v1/chat',
    '/v1/chat;jsessionid=1',
    '/.env',
    '/metrics/../../etc/passwd',
    '/v1/chat/stream/x',
    '/V1/CHAT',
  ]);
  const withBody = method !== 'GET' && r.next() < 0.7;
  return {
    kind: `odd-request:${method}`,
    method,
    path,
    headers: withBody ? { 'content-type': JSON_CT } : {},
    body: withBody ? JSON.stringify(r.pick(validBodies)) : undefined,
  };
}

function oddHeaders(r: R): Case {
  const headers: Record<string, string> = { 'content-type': JSON_CT };
  const which = r.int(0, 5);
  if (which === 0) headers['x-request-id'] = randomJunkString(r, r.int(1, 200)).replace(/[^\x20-\x7e]/g, '?');
  else if (which === 1) headers.traceparent = r.pick(['00-', '00-zz-zz-01', `00-${'a'.repeat(32)}-${'b'.repeat(16)}-zz`, '-'.repeat(55), 'x'.repeat(2000)]);
  else if (which === 2) headers['x-request-id'] = 'x'.repeat(r.int(129, 4000));
  else if (which === 3) headers['content-length'] = String(r.pick([0, 1, 5]));
  else if (which === 4) headers.accept = r.pick(['text/event-stream', 'application/xml', '*/*;q=0', 'garbage']);
  else headers['x-api-key'] = 'wrong-' + 'k'.repeat(r.int(0, 3000));
  const body = JSON.stringify(r.pick(validBodies));
  // A short Content-Length truncates the body the server sees; nothing else is sent.
  return { kind: `odd-header:${which}`, path: r.pick(ROUTES), headers, body: headers['content-length'] ? body.slice(0, Number(headers['content-length'])) : body };
}

const generators: [number, (r: R) => Case][] = [
  [22, mutateJson],
  [18, wrongTypes],
  [6, hugeStrings],
  [6, deepNesting],
  [12, invalidUtf8],
  [8, badEscapes],
  [5, oddNumbers],
  [3, duplicateKeys],
  [10, oddContentTypes],
  [6, oddRequests],
  [4, oddHeaders],
];

function makeCases(seed: number, count: number): Case[] {
  const r = rng(seed);
  const total = generators.reduce((a, [w]) => a + w, 0);
  return Array.from({ length: count }, () => {
    let x = r.next() * total;
    for (const [w, g] of generators) {
      if ((x -= w) < 0) return g(r);
    }
    return generators[0]![1](r);
  });
}

function describeCase(c: Case, i: number): string {
  const b = c.body === undefined ? '' : Buffer.isBuffer(c.body) ? c.body.toString('latin1') : String(c.body);
  return `#${i} ${c.kind} ${c.method ?? 'POST'} ${c.path.slice(0, 80)} ${JSON.stringify(c.headers).slice(0, 120)} body[${b.length}]=${JSON.stringify(b.slice(0, 80))}`;
}

describe(`fuzz: ${config.fuzzCount} bad inputs (seed ${config.fuzzSeed})`, () => {
  it.runIf(config.fuzzCount > 0)('never a 5xx, always the JSON error shape', { timeout: 600_000 }, async () => {
    const cases = makeCases(config.fuzzSeed, config.fuzzCount);
    const failures: string[] = [];
    const byStatus = new Map<number, number>();
    const byKind = new Map<string, number>();
    await pool(cases, config.concurrency, async (c, i) => {
      const req: Req = { ...c, headers: { ...authHeaders(), ...c.headers } };
      if (c.kind === 'odd-header:5') delete (req.headers as Record<string, string>).authorization;
      let res: Res;
      try {
        res = await request(req);
      } catch (e) {
        failures.push(`${describeCase(c, i)}\n    -> no response: ${(e as Error).message}`);
        return;
      }
      byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1);
      byKind.set(c.kind.split(':')[0]!, (byKind.get(c.kind.split(':')[0]!) ?? 0) + 1);
      try {
        expect(res.status, 'status < 500').toBeLessThan(500);
        expectCommonHeaders(res);
        if (res.status >= 400 && req.method !== 'HEAD') expectErrorShape(res, null, null);
      } catch (e) {
        failures.push(`${describeCase(c, i)}\n    -> ${res.status} ${res.text.slice(0, 200)}\n    ${(e as Error).message.split('\n')[0]}`);
      }
    });
    const summary = [...byStatus.entries()].sort().map(([s, n]) => `${s}:${n}`).join(' ');
    console.log(`fuzz seed=${config.fuzzSeed} count=${cases.length} statuses ${summary}`);
    if (failures.length) {
      throw new Error(
        `${failures.length} of ${cases.length} fuzz cases broke the contract (seed ${config.fuzzSeed}); first ones:\n` +
          failures.slice(0, 15).join('\n'),
      );
    }
  });
});
