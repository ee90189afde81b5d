import * as fs from 'fs';
import { FRAME_HEADER, FrameEnd, MAX_BODY, walkFrames } from './record-codec';

const CHUNK = 512 * 1024;

export interface FileWalk {
  end: FrameEnd;
  /** file size when read */
  size: number;
  frames: number;
}

const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Walks the frames of a file in chunks (a frame larger than a chunk gets a
 * buffer of its size), calling visit for each good frame with the chunk
 * buffer, the body's range in it and the frame's file offset. Between
 * chunks it yields to the event loop, so a long load keeps answering
 * (-LOADING, PING). Offsets in the result are file offsets.
 */
export async function walkFile(
  path: string,
  visit: (buf: Buffer, start: number, end: number, offset: number) => void,
  /** false: leave the CRCs to another walk (see walkFrames) */
  checkCrc = true,
): Promise<FileWalk> {
  const fd = fs.openSync(path, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    let buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, FRAME_HEADER)));
    let base = 0; // file offset of buf[0]
    let have = 0; // bytes of buf filled
    let frames = 0;
    for (;;) {
      const want = Math.min(buf.length - have, size - (base + have));
      if (want > 0) have += fs.readSync(fd, buf, have, want, base + have);
      const atEof = base + have >= size;
      const view = buf.subarray(0, have);
      const end = walkFrames(
        view,
        0,
        (s, e, off) => {
          visit(view, s, e, base + off);
          frames++;
        },
        checkCrc,
      );
      if (end.kind === 'clean') {
        if (atEof) return { end: { kind: 'clean', offset: base + end.offset }, size, frames };
        base += have;
        have = 0;
      } else if (end.kind === 'corrupt' || atEof) {
        return { end: { ...end, offset: base + end.offset }, size, frames };
      } else {
        // an incomplete frame: keep its bytes, read on (with a buffer big enough for it)
        const rest = have - end.offset;
        let need = CHUNK;
        if (rest >= FRAME_HEADER) {
          const len = view.readUInt32LE(end.offset);
          if (len <= MAX_BODY) need = Math.max(need, len + FRAME_HEADER);
        }
        need = Math.min(need, Math.max(CHUNK, size - (base + end.offset))); // a damaged length cannot make us allocate more than the file
        const next = need > buf.length ? Buffer.allocUnsafe(need) : buf;
        view.copy(next, 0, end.offset, have);
        buf = next;
        base += end.offset;
        have = rest;
      }
      await yieldToLoop();
    }
  } finally {
    fs.closeSync(fd);
  }
}
