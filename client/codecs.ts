/**
 * Payload codecs. The broker stores payloads and results as opaque bytes; a
 * codec turns application values into bytes on the producer (and for a
 * worker's result) and back on the worker (and for STATUS/WAITJOB).
 *
 * Producer and worker must use the same codec for a queue: the broker does
 * not record which one encoded a payload.
 */
import { Packr } from 'msgpackr';
import { DecodeError } from './errors';

export interface Codec<T = unknown> {
  /** stable name, e.g. 'json' */
  readonly name: string;
  encode(value: T): Buffer | string;
  decode(data: Buffer): T;
}

/** Names of the built-in codecs, accepted wherever a Codec is. */
export type CodecName = 'json' | 'msgpack' | 'string' | 'raw';

/**
 * JSON (the default). Buffers and strings are sent as they are; any other
 * value as JSON text. Decoding parses JSON; bytes that are not valid JSON are
 * handed over as a UTF-8 string, so a producer that sends plain strings works
 * with a JSON worker. (A string that happens to be valid JSON, such as `"42"`,
 * comes back parsed: send strings through the `string` codec on both sides
 * when that matters.)
 */
export const jsonCodec: Codec<unknown> = {
  name: 'json',
  encode(value: unknown): Buffer | string {
    if (Buffer.isBuffer(value) || typeof value === 'string') return value;
    const text = JSON.stringify(value);
    if (text === undefined) throw new TypeError(`cannot encode ${typeof value} as JSON`);
    return text;
  },
  decode(data: Buffer): unknown {
    const text = data.toString('utf8');
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  },
};

const packr = new Packr({ useRecords: false });

/**
 * MessagePack through msgpackr (records extension off, so any MessagePack
 * decoder can read it). Buffers are sent as they are (assumed to be packed
 * already); every other value, strings included, is packed. Decoding is
 * strict: bytes that are not MessagePack raise DecodeError.
 */
export const msgpackCodec: Codec<unknown> = {
  name: 'msgpack',
  encode(value: unknown): Buffer | string {
    if (Buffer.isBuffer(value)) return value;
    return packr.pack(value);
  },
  decode(data: Buffer): unknown {
    try {
      return packr.unpack(data);
    } catch (err) {
      throw new DecodeError('DECODE', `payload is not MessagePack: ${(err as Error).message}`, { cause: err });
    }
  },
};

/** UTF-8 strings, exactly (Buffers are sent as they are). */
export const stringCodec: Codec<string> = {
  name: 'string',
  encode(value: string | Buffer): Buffer | string {
    if (Buffer.isBuffer(value) || typeof value === 'string') return value;
    throw new TypeError(`the string codec takes strings, got ${typeof value}`);
  },
  decode(data: Buffer): string {
    return data.toString('utf8');
  },
};

/** Bytes, untouched: decode hands over the Buffer. */
export const rawCodec: Codec<Buffer> = {
  name: 'raw',
  encode(value: Buffer | string): Buffer | string {
    if (Buffer.isBuffer(value) || typeof value === 'string') return value;
    throw new TypeError(`the raw codec takes Buffers or strings, got ${typeof value}`);
  },
  decode(data: Buffer): Buffer {
    return data;
  },
};

export const codecs = {
  json: jsonCodec,
  msgpack: msgpackCodec,
  string: stringCodec,
  raw: rawCodec,
} as const;

/** A codec given by name or as an object; undefined means JSON. */
export function resolveCodec<T>(codec: Codec<T> | CodecName | undefined): Codec<T> {
  if (codec === undefined) return jsonCodec as Codec<T>;
  if (typeof codec === 'string') {
    const c = codecs[codec];
    if (!c) throw new TypeError(`unknown codec '${codec}'`);
    return c as unknown as Codec<T>;
  }
  return codec;
}
