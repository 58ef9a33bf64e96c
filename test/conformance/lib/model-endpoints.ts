/**
 * Two OpenAI-compatible model endpoints on loopback for the fallback pass
 * (fallback.test.ts): a primary that always fails and a spare that answers.
 *
 * The primary's failure is chosen by the last user message: `primary:429-long`
 * (429 with Retry-After: 3600), `primary:hang` (never answers; the service's
 * LLM_TIMEOUT ends the call), anything else 503.
 * The spare answers `spare answered: <message>`, streamed or not.
 */
import http from 'node:http';
import type { Socket } from 'node:net';

interface ChatPayload {
  model?: string;
  stream?: boolean;
  messages?: { role: string; content?: string | null }[];
}

export interface Endpoint {
  /** Requests received, with the model name and the last user message of each. */
  calls: { model: string; message: string }[];
  close(): Promise<void>;
}

type Answer = (payload: ChatPayload, message: string, res: http.ServerResponse) => void;

function listen(port: number, answer: Answer): Promise<Endpoint> {
  const calls: Endpoint['calls'] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let payload: ChatPayload;
      try {
        payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatPayload;
      } catch {
        res.writeHead(400).end();
        return;
      }
      const users = (payload.messages ?? []).filter((m) => m.role === 'user');
      const message = String(users.at(-1)?.content ?? '');
      calls.push({ model: String(payload.model), message });
      answer(payload, message, res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve({
        calls,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      }),
    );
  });
}

export function startFailingPrimary(port: number): Promise<Endpoint> {
  return listen(port, (_payload, message, res) => {
    const json = (status: number, headers: Record<string, string> = {}) =>
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end('{"error":{"message":"primary down"}}');
    if (message.startsWith('primary:429-long')) return json(429, { 'retry-after': '3600' });
    if (message.startsWith('primary:hang')) {
      setTimeout(() => res.destroy(), 60_000).unref();
      return;
    }
    return json(503);
  });
}

export function startSpare(port: number): Promise<Endpoint> {
  return listen(port, (payload, message, res) => {
    const text = `spare answered: ${message}`;
    const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
    if (payload.stream === true) {
      const deltas = [text.slice(0, 6), text.slice(6)].map(
        (content) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`,
      );
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(
        `${deltas.join('')}data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n` +
          `data: ${JSON.stringify({ choices: [], usage })}\n\ndata: [DONE]\n\n`,
      );
      return;
    }
    const body = { choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
}
