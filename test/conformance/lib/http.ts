/**
 * A deliberately small HTTP/1.1 client over node:http, so the suite controls
 * every byte: no default Content-Type, raw (even invalid UTF-8) bodies,
 * chunked bodies without Content-Length, bodies that are announced but never
 * sent whole.
 */
import http from 'node:http';
import https from 'node:https';
import { config } from './config.js';

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  /** Parsed JSON, or undefined when the body is not JSON. */
  json: any;
  /** ms from sending the request to the end of the response */
  ms: number;
}

export interface Req {
  method?: string;
  path: string;
  headers?: Record<string, string | number | undefined>;
  /** string (utf-8), raw bytes, or an async/sync iterable of chunks (sent chunked unless Content-Length is given) */
  body?: string | Buffer | Iterable<Buffer> | AsyncIterable<Buffer>;
  timeoutMs?: number;
  /** Abort the request once this many response bytes arrived (for streams). */
  signal?: AbortSignal;
}

const agentOpts = { keepAlive: true, maxSockets: 64 };
const httpAgent = new http.Agent(agentOpts);
const httpsAgent = new https.Agent(agentOpts);

export function url(path: string): URL {
  return new URL(config.baseUrl + path);
}

function isIterable(x: unknown): x is Iterable<Buffer> | AsyncIterable<Buffer> {
  return (
    typeof x === 'object' &&
    x !== null &&
    !Buffer.isBuffer(x) &&
    (Symbol.iterator in (x as object) || Symbol.asyncIterator in (x as object))
  );
}

export function request(req: Req): Promise<Res> {
  const u = url(req.path);
  const mod = u.protocol === 'https:' ? https : http;
  const headers: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(req.headers ?? {})) if (v !== undefined) headers[k] = v;
  const body = req.body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-length')) {
      headers['content-length'] = Buffer.byteLength(body);
    }
  }
  const started = performance.now();
  return new Promise<Res>((resolve, reject) => {
    let settled = false;
    const done = (err: Error | null, res?: Res) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(res!);
    };
    const r = mod.request(
      {
        protocol: u.protocol,
        hostname: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: req.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        agent: u.protocol === 'https:' ? httpsAgent : httpAgent,
        signal: req.signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => done(e));
        res.on('end', () => {
          const buf = Buffer.concat(chunks);
          const text = buf.toString('utf8');
          let json: any;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          done(null, {
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: buf,
            text,
            json,
            ms: performance.now() - started,
          });
        });
      },
    );
    const timeoutMs = req.timeoutMs ?? config.timeoutMs;
    const timer = setTimeout(() => {
      r.destroy(new Error(`timeout after ${timeoutMs} ms: ${req.method ?? 'GET'} ${req.path}`));
    }, timeoutMs);
    // A server that answers (413) before reading the whole body may close the
    // connection while we are still writing: that is allowed, as long as the
    // response arrived. Only errors before a response count.
    r.on('error', (e) => done(e));
    if (body === undefined) {
      r.end();
    } else if (typeof body === 'string' || Buffer.isBuffer(body)) {
      r.end(body);
    } else if (isIterable(body)) {
      (async () => {
        try {
          for await (const chunk of body as AsyncIterable<Buffer>) {
            if (r.destroyed || settled) return;
            if (!r.write(chunk)) {
              await new Promise<void>((res) => {
                const onDone = () => {
                  r.off('drain', onDone);
                  r.off('close', onDone);
                  res();
                };
                r.once('drain', onDone);
                r.once('close', onDone);
              });
            }
          }
          if (!r.destroyed) r.end();
        } catch (e) {
          r.destroy(e as Error);
        }
      })();
    }
  });
}

export const get = (path: string, headers?: Req['headers']) => request({ method: 'GET', path, headers });

export function postJson(path: string, value: unknown, headers?: Req['headers']): Promise<Res> {
  return request({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(value),
  });
}

/** Run fn over items with at most `limit` in flight. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  });
  await Promise.all(workers);
  return out;
}

export function closeAgents(): void {
  httpAgent.destroy();
  httpsAgent.destroy();
}
