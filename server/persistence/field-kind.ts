/** How one field of a record or snapshot frame is encoded (see record-codec.ts). */
export const enum Kind {
  Bytes,
  BytesOrNull,
  Num,
  NumOrNull,
  Str,
  Bool,
  BytesList,
  /** EnqueueOptions as a fixed list of numbers or nil */
  Options,
}
