/**
 * A minimal protobuf wire-format reader, enough to read OTLP export requests
 * (opentelemetry-proto, collector/{trace,metrics}/v1) without a dependency.
 */
export type Field = { wire: 0; value: bigint } | { wire: 1 | 2 | 5; value: Buffer };
export type Message = Map<number, Field[]>;

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('protobuf: truncated varint');
    const byte = buf[pos++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7n;
    if (shift > 63n) throw new Error('protobuf: varint too long');
  }
}

export function decode(buf: Buffer): Message {
  const msg: Message = new Map();
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    let f: Field;
    if (wire === 0) {
      const [v, p2] = readVarint(buf, pos);
      pos = p2;
      f = { wire: 0, value: v };
    } else if (wire === 1) {
      f = { wire: 1, value: buf.subarray(pos, pos + 8) };
      pos += 8;
    } else if (wire === 5) {
      f = { wire: 5, value: buf.subarray(pos, pos + 4) };
      pos += 4;
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      pos = p2;
      const end = pos + Number(len);
      if (end > buf.length) throw new Error('protobuf: truncated length-delimited field');
      f = { wire: 2, value: buf.subarray(pos, end) };
      pos = end;
    } else {
      throw new Error(`protobuf: unsupported wire type ${wire}`);
    }
    if (!msg.has(field)) msg.set(field, []);
    msg.get(field)!.push(f);
  }
  return msg;
}

export function messages(msg: Message, field: number): Message[] {
  return (msg.get(field) ?? []).filter((f) => f.wire === 2).map((f) => decode(f.value as Buffer));
}

export function message(msg: Message, field: number): Message | undefined {
  return messages(msg, field)[0];
}

export function bytes(msg: Message, field: number): Buffer {
  const f = msg.get(field)?.[0];
  return f && f.wire === 2 ? f.value : Buffer.alloc(0);
}

export function str(msg: Message, field: number): string {
  return bytes(msg, field).toString('utf8');
}

export function varint(msg: Message, field: number): bigint {
  const f = msg.get(field)?.[0];
  return f && f.wire === 0 ? f.value : 0n;
}

export function has(msg: Message, field: number): boolean {
  return msg.has(field);
}
