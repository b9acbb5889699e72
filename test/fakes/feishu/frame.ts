/**
 * The long-connection frame, `pbbp2.Frame`, written independently of the SDK so that the fake
 * checks the SDK's encoding rather than sharing it. Field numbers and wire types follow the
 * SDK's ws-client/proto-buf/pbbp2.js (larksuite/node-sdk):
 *
 *   message Header { required string key = 1; required string value = 2; }
 *   message Frame {
 *     required uint64 SeqID = 1; required uint64 LogID = 2; required int32 service = 3;
 *     required int32 method = 4; repeated Header headers = 5; optional string payloadEncoding = 6;
 *     optional string payloadType = 7; optional bytes payload = 8; optional string LogIDNew = 9;
 *   }
 *
 * method 0 = control (ping/pong), 1 = data (events and card callbacks, and the client's answers).
 */

export interface Frame {
  SeqID: number;
  LogID: number;
  service: number;
  method: number;
  headers: { key: string; value: string }[];
  payloadEncoding?: string;
  payloadType?: string;
  payload?: Uint8Array;
  LogIDNew?: string;
}

export const FRAME_CONTROL = 0;
export const FRAME_DATA = 1;

function varint(n: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n; // negative int32 is sign-extended to 64 bits on the wire
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}

function lengthDelimited(field: number, data: Uint8Array): number[] {
  return [...varint((field << 3) | 2), ...varint(data.length), ...data];
}

const utf8 = (s: string) => new TextEncoder().encode(s);

export function encodeFrame(f: Frame): Uint8Array {
  const bytes: number[] = [];
  bytes.push(...varint((1 << 3) | 0), ...varint(f.SeqID));
  bytes.push(...varint((2 << 3) | 0), ...varint(f.LogID));
  bytes.push(...varint((3 << 3) | 0), ...varint(f.service));
  bytes.push(...varint((4 << 3) | 0), ...varint(f.method));
  for (const h of f.headers) {
    const inner = [...lengthDelimited(1, utf8(h.key)), ...lengthDelimited(2, utf8(h.value))];
    bytes.push(...lengthDelimited(5, Uint8Array.from(inner)));
  }
  if (f.payloadEncoding !== undefined) bytes.push(...lengthDelimited(6, utf8(f.payloadEncoding)));
  if (f.payloadType !== undefined) bytes.push(...lengthDelimited(7, utf8(f.payloadType)));
  if (f.payload !== undefined) bytes.push(...lengthDelimited(8, f.payload));
  if (f.LogIDNew !== undefined) bytes.push(...lengthDelimited(9, utf8(f.LogIDNew)));
  return Uint8Array.from(bytes);
}

class Reader {
  pos = 0;
  constructor(private buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw new Error('frame: truncated varint');
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
    }
    if (result >= 1n << 63n) result -= 1n << 64n;
    return Number(result);
  }
  bytes(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw new Error('frame: truncated field');
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.bytes();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`frame: unsupported wire type ${wireType}`);
  }
}

const text = (b: Uint8Array) => new TextDecoder().decode(b);

export function decodeFrame(buf: Uint8Array): Frame {
  const r = new Reader(buf);
  const seen = new Set<number>();
  const f: Frame = { SeqID: 0, LogID: 0, service: 0, method: 0, headers: [] };
  while (!r.done) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    seen.add(field);
    switch (field) {
      case 1: f.SeqID = r.varint(); break;
      case 2: f.LogID = r.varint(); break;
      case 3: f.service = r.varint(); break;
      case 4: f.method = r.varint(); break;
      case 5: {
        const h = new Reader(r.bytes());
        let key = '';
        let value = '';
        while (!h.done) {
          const t = h.varint();
          if (t >>> 3 === 1) key = text(h.bytes());
          else if (t >>> 3 === 2) value = text(h.bytes());
          else h.skip(t & 7);
        }
        f.headers.push({ key, value });
        break;
      }
      case 6: f.payloadEncoding = text(r.bytes()); break;
      case 7: f.payloadType = text(r.bytes()); break;
      case 8: f.payload = Uint8Array.from(r.bytes()); break;
      case 9: f.LogIDNew = text(r.bytes()); break;
      default: r.skip(wire);
    }
  }
  // The SDK's decoder rejects frames without the required fields; so does the fake.
  for (const required of [1, 2, 3, 4]) if (!seen.has(required)) throw new Error(`frame: missing required field ${required}`);
  return f;
}

export function header(f: Frame, key: string): string | undefined {
  return f.headers.find((h) => h.key === key)?.value;
}
