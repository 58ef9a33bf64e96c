/**
 * A test OTLP/HTTP receiver (protobuf or JSON bodies, optionally gzip) that
 * keeps what the service exports: spans and metric data points, flattened.
 */
import { createServer, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { bytes, decode, message, messages, str, varint, type Message } from './protobuf.js';

export type AttrValue = string | number | boolean | null;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  /** 1 internal, 2 server, 3 client, 4 producer, 5 consumer */
  kind: number;
  attributes: Record<string, AttrValue>;
  resource: Record<string, AttrValue>;
  /** the spans this one links to (a background run's span: the request that queued it) */
  links: { traceId: string; spanId: string }[];
}

export interface ReceivedPoint {
  metric: string;
  unit: string;
  /** gauge | sum | histogram | exponential_histogram | summary */
  type: string;
  attributes: Record<string, AttrValue>;
  resource: Record<string, AttrValue>;
  /** histograms only */
  explicitBounds?: number[];
}

function anyValue(m: Message | undefined): AttrValue {
  if (!m) return null;
  if (m.has(1)) return str(m, 1);
  if (m.has(2)) return varint(m, 2) !== 0n;
  if (m.has(3)) return Number(BigInt.asIntN(64, varint(m, 3)));
  if (m.has(4)) {
    const f = m.get(4)![0]!;
    return (f.value as Buffer).readDoubleLE(0);
  }
  return null;
}

function attributes(list: Message[]): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of list) out[str(kv, 1)] = anyValue(message(kv, 2));
  return out;
}

export function decodeTraces(body: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of messages(decode(body), 1)) {
    const resource = attributes(messages(message(rs, 1) ?? new Map(), 1));
    for (const ss of messages(rs, 2)) {
      for (const span of messages(ss, 2)) {
        out.push({
          traceId: bytes(span, 1).toString('hex'),
          spanId: bytes(span, 2).toString('hex'),
          parentSpanId: bytes(span, 4).toString('hex'),
          name: str(span, 5),
          kind: Number(varint(span, 6)),
          attributes: attributes(messages(span, 9)),
          resource,
          links: messages(span, 13).map((l) => ({ traceId: bytes(l, 1).toString('hex'), spanId: bytes(l, 2).toString('hex') })),
        });
      }
    }
  }
  return out;
}

function packedDoubles(m: Message, field: number): number[] {
  const out: number[] = [];
  for (const f of m.get(field) ?? []) {
    const b = f.value as Buffer;
    if (f.wire === 1) out.push(b.readDoubleLE(0));
    else if (f.wire === 2) for (let i = 0; i + 8 <= b.length; i += 8) out.push(b.readDoubleLE(i));
  }
  return out;
}

const DATA_FIELDS: [number, string, number][] = [
  // [Metric field, type, attributes field in its data points]
  [5, 'gauge', 7],
  [7, 'sum', 7],
  [9, 'histogram', 9],
  [10, 'exponential_histogram', 1],
  [11, 'summary', 7],
];

export function decodeMetrics(body: Buffer): ReceivedPoint[] {
  const out: ReceivedPoint[] = [];
  for (const rm of messages(decode(body), 1)) {
    const resource = attributes(messages(message(rm, 1) ?? new Map(), 1));
    for (const sm of messages(rm, 2)) {
      for (const metric of messages(sm, 2)) {
        const name = str(metric, 1);
        const unit = str(metric, 3);
        for (const [field, type, attrField] of DATA_FIELDS) {
          const data = message(metric, field);
          if (!data) continue;
          for (const dp of messages(data, 1)) {
            const point: ReceivedPoint = { metric: name, unit, type, attributes: attributes(messages(dp, attrField)), resource };
            if (type === 'histogram') point.explicitBounds = packedDoubles(dp, 7);
            out.push(point);
          }
        }
      }
    }
  }
  return out;
}

/** OTLP/JSON (http/json) bodies: ids are hex strings, values are AnyValue objects. */
function jsonAttrs(list: unknown): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  for (const kv of (list as { key: string; value: Record<string, unknown> }[] | undefined) ?? []) {
    const v = kv.value ?? {};
    const raw = v.stringValue ?? v.boolValue ?? v.intValue ?? v.doubleValue ?? null;
    out[kv.key] = typeof raw === 'string' && 'intValue' in v ? Number(raw) : (raw as AttrValue);
  }
  return out;
}

function decodeTracesJson(body: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  const doc = JSON.parse(body.toString('utf8')) as { resourceSpans?: any[] };
  for (const rs of doc.resourceSpans ?? []) {
    const resource = jsonAttrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        out.push({
          traceId: String(s.traceId ?? '').toLowerCase(),
          spanId: String(s.spanId ?? '').toLowerCase(),
          parentSpanId: String(s.parentSpanId ?? '').toLowerCase(),
          name: s.name,
          kind: Number(s.kind ?? 0),
          attributes: jsonAttrs(s.attributes),
          resource,
          links: (s.links ?? []).map((l: { traceId?: string; spanId?: string }) => ({
            traceId: String(l.traceId ?? '').toLowerCase(),
            spanId: String(l.spanId ?? '').toLowerCase(),
          })),
        });
      }
    }
  }
  return out;
}

export class OtlpReceiver {
  spans: ReceivedSpan[] = [];
  /** every data point of every export, in arrival order */
  points: ReceivedPoint[] = [];
  requests: { path: string; contentType: string }[] = [];
  errors: string[] = [];
  private server: Server | undefined;

  async start(port: number, host = '127.0.0.1'): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        const path = (req.url ?? '').split('?')[0]!;
        const contentType = String(req.headers['content-type'] ?? '');
        const isJson = contentType.includes('json');
        this.requests.push({ path, contentType });
        try {
          if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
          if (path === '/v1/traces') this.spans.push(...(isJson ? decodeTracesJson(body) : decodeTraces(body)));
          else if (path === '/v1/metrics' && !isJson) this.points.push(...decodeMetrics(body));
          else if (path !== '/v1/metrics' && path !== '/v1/logs') {
            res.writeHead(404).end();
            return;
          }
        } catch (err) {
          this.errors.push(`${path}: ${(err as Error).message}`);
          res.writeHead(400).end();
          return;
        }
        // an empty Export*ServiceResponse
        res.writeHead(200, { 'content-type': isJson ? 'application/json' : 'application/x-protobuf' });
        res.end(isJson ? '{}' : Buffer.alloc(0));
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** Wait until predicate holds on the received data, or throw after timeoutMs. */
  async waitFor(what: string, predicate: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) {
        throw new Error(`OTLP receiver: timed out waiting for ${what} (${this.spans.length} spans, ${this.points.length} points, requests: ${JSON.stringify(this.requests.slice(-5))}, errors: ${this.errors.join('; ')})`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
