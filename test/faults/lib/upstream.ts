/**
 * A misbehaving OpenAI-compatible upstream (`POST /v1/chat/completions`), for the
 * fault suite: the service under test has LLM_BASE_URL pointing at it on loopback.
 *
 * The failure mode is chosen per request by the last user message: `fault:<mode>`
 * (see MODES). Anything else is a well-formed answer, streamed (with [DONE]) or not.
 * `fault:history` answers with the JSON list of the user messages of the conversation
 * it was sent, so a test can read a session's stored history back through the model.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export const MODES = [
  'error-500',
  'retry-after-short', // 429 Retry-After: 1 once, then an answer
  'retry-after-long', // 429 Retry-After: 3600
  'hang-before-headers',
  'hang-after-headers',
  'malformed-json',
  'choices-not-a-list',
  'tool-calls-not-objects',
  'usage-not-ints',
  'answer-5mb',
  'surrogate',
  'nul',
  'tool-calls-forever',
  'dropped-stream',
  'eof-without-done',
] as const;
export type Mode = (typeof MODES)[number];

interface ChatPayload {
  stream?: boolean;
  messages?: { role: string; content?: string | null }[];
}

export interface Upstream {
  url: string;
  port: number;
  /** Requests received, by mode (`ok` for well-formed answers). */
  calls: Map<string, number>;
  close(): Promise<void>;
}

const HANG_MS = 120_000;

function lastUser(payload: ChatPayload): string {
  const users = (payload.messages ?? []).filter((m) => m.role === 'user');
  return String(users.at(-1)?.content ?? '');
}

function completion(content: string | null, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id: 'chatcmpl-fault',
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content, ...extra }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  });
}

/** SSE `data:` lines of a streamed answer (raw strings, so escapes stay as sent). */
function sseOf(rawDeltas: string[], done = true): string {
  const events = rawDeltas.map((d) => `data: {"choices":[{"index":0,"delta":${d}}]}\n\n`);
  if (done) {
    events.push('data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n');
    events.push('data: {"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}\n\n');
    events.push('data: [DONE]\n\n');
  }
  return events.join('');
}

const TOOL_CALL = { id: 'call_1', type: 'function', function: { name: 'calculator', arguments: '{"expression":"1+1"}' } };

// The 5 MB answers, built once (the upstream shares its event loop with the tests).
let bigAnswers: { plain: string; streamed: string } | undefined;
function big() {
  bigAnswers ??= {
    plain: completion('x'.repeat(5 * 1024 * 1024)),
    streamed: sseOf(Array.from({ length: 5 * 1024 }, () => `{"content":"${'y'.repeat(1024)}"}`)),
  };
  return bigAnswers;
}

export async function startUpstream(port = 0): Promise<Upstream> {
  const calls = new Map<string, number>();
  const retried = new Set<string>();
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let payload: ChatPayload = {};
      try {
        payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatPayload;
      } catch {
        res.writeHead(400).end();
        return;
      }
      const message = lastUser(payload);
      const mode = /^fault:([a-z0-9-]+)/.exec(message)?.[1] ?? 'ok';
      calls.set(mode, (calls.get(mode) ?? 0) + 1);
      const stream = payload.stream === true;
      const json = (status: number, body: string, headers: Record<string, string> = {}) =>
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
      const sse = (body: string) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(body);
      const answer = (raw: string) => (stream ? sse(sseOf([`{"content":${raw}}`])) : json(200, completion(null).replace('"content":null', `"content":${raw}`)));

      switch (mode) {
        case 'history': {
          const users = (payload.messages ?? []).filter((m) => m.role === 'user').map((m) => m.content);
          return answer(JSON.stringify(JSON.stringify(users.slice(0, -1))));
        }
        case 'error-500':
          return json(500, '{"error":{"message":"upstream exploded"}}');
        case 'retry-after-short':
          if (!retried.has(message)) {
            retried.add(message);
            return json(429, '{"error":{"message":"slow down"}}', { 'retry-after': '1' });
          }
          return answer('"answered after a short Retry-After"');
        case 'retry-after-long':
          return json(429, '{"error":{"message":"come back in an hour"}}', { 'retry-after': '3600' });
        case 'hang-before-headers':
          setTimeout(() => res.destroy(), HANG_MS).unref();
          return;
        case 'hang-after-headers':
          res.writeHead(200, { 'content-type': stream ? 'text/event-stream' : 'application/json' });
          res.write(stream ? 'data: {"choices":[{"index":0,"delta":{"content":"wait"}}]}\n\n' : '{"choices": [');
          setTimeout(() => res.destroy(), HANG_MS).unref();
          return;
        case 'malformed-json':
          return stream ? sse('data: {"choices": [{"delta": \n\ndata: [DONE]\n\n') : json(200, '{"choices": [{"message": ');
        case 'choices-not-a-list':
          return stream ? sse('data: {"choices": "all of them"}\n\ndata: [DONE]\n\n') : json(200, '{"choices": {"0": "x"}}');
        case 'tool-calls-not-objects':
          return stream
            ? sse('data: {"choices": [{"delta": {"tool_calls": ["x"]}}]}\n\ndata: [DONE]\n\n')
            : json(200, completion(null, { tool_calls: ['x'] }));
        case 'usage-not-ints':
          return stream
            ? sse(`${sseOf(['{"content":"hi"}'], false)}data: {"choices":[],"usage":{"prompt_tokens":"many"}}\n\ndata: [DONE]\n\n`)
            : json(200, completion('hi').replace('"prompt_tokens":10', '"prompt_tokens":"many"'));
        case 'answer-5mb':
          return stream ? sse(big().streamed) : json(200, big().plain);
        case 'surrogate':
          return answer('"half a pair \\ud800 here"');
        case 'nul':
          return answer('"a NUL \\u0000 here"');
        case 'tool-calls-forever':
          if (!stream) return json(200, completion(null, { tool_calls: [TOOL_CALL] }));
          return sse(
            sseOf([JSON.stringify({ tool_calls: [{ index: 0, ...TOOL_CALL }] })]).replace(
              '"finish_reason":"stop"',
              '"finish_reason":"tool_calls"',
            ),
          );
        case 'dropped-stream':
          res.writeHead(200, stream ? { 'content-type': 'text/event-stream' } : { 'content-type': 'application/json', 'content-length': '100000' });
          res.write(stream ? sseOf(['{"content":"the first words"}'], false) : '{"choices": [{"message": {"content": "the first');
          setTimeout(() => res.socket?.destroy(), 50);
          return;
        case 'eof-without-done':
          // the answer just stops: no finish_reason, no [DONE] (a truncated body when not streamed)
          return stream ? sse(sseOf(['{"content":"half an ans"}'], false)) : json(200, completion('half').slice(0, 60));
        default: {
          const text = `ok: ${message.slice(0, 200)}`;
          return answer(JSON.stringify(text));
        }
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/v1`,
    port: actual,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
