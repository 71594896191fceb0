import { utf8Decode, utf8Encode } from "./bytes.js";

/**
 * The few protobuf wire rules the message path needs (varint and length-delimited fields),
 * so the bundle carries no protobuf library and no Node built-ins.
 */

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

export class ProtoWriter {
  private readonly out: number[] = [];

  private varint(value: number): void {
    let v = value;
    while (v > 0x7f) {
      this.out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.out.push(v);
  }

  /** proto3 leaves default values off the wire. */
  uint(field: number, value: number): this {
    if (value === 0) return this;
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`field ${field}: ${value} is not a uint`);
    this.varint((field << 3) | WIRE_VARINT);
    this.varint(value);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    if (value.length === 0) return this;
    this.varint((field << 3) | WIRE_LEN);
    this.varint(value.length);
    for (const b of value) this.out.push(b);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, utf8Encode(value));
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

export interface ProtoField {
  field: number;
  /** Varint fields: the number. */
  int: number;
  /** Length-delimited fields: the bytes. */
  bytes: Uint8Array;
}

/** Every field of one message, in wire order; unknown wire types throw, since the frame is then not what we think. */
export function readFields(buf: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = buf[pos++];
      if (b === undefined) throw new RangeError("protobuf: varint runs past the end");
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 0x80;
    }
    throw new RangeError("protobuf: varint longer than 10 bytes");
  };
  while (pos < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === WIRE_VARINT) fields.push({ field, int: varint(), bytes: new Uint8Array(0) });
    else if (wire === WIRE_LEN) {
      const len = varint();
      if (pos + len > buf.length) throw new RangeError("protobuf: field runs past the end");
      fields.push({ field, int: 0, bytes: buf.subarray(pos, pos + len) });
      pos += len;
    } else if (wire === WIRE_I64) pos += 8;
    else if (wire === WIRE_I32) pos += 4;
    else throw new RangeError(`protobuf: wire type ${wire} not supported`);
  }
  return fields;
}

export function fieldString(fields: ProtoField[], field: number): string {
  const f = fields.find((x) => x.field === field);
  return f ? utf8Decode(f.bytes) : "";
}

export function fieldInt(fields: ProtoField[], field: number): number {
  return fields.find((x) => x.field === field)?.int ?? 0;
}
