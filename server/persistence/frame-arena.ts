/**
 * Frames encoded one after another into a buffer that is never rewritten:
 * a frame handed out is a slice of it and stays valid, and when the buffer
 * has no room left for the next frame a new one is started (the old one
 * lives on in the slices that point into it). Encoders write here instead
 * of allocating a Buffer per frame.
 */
export class FrameArena {
  buf: Buffer;
  /** where the next frame starts */
  pos = 0;

  constructor(private readonly size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** room for `bytes` at pos: a new buffer if this one has not that much left */
  reserve(bytes: number): void {
    if (this.size - this.pos < bytes) {
      this.buf = Buffer.allocUnsafe(Math.max(this.size, bytes));
      this.pos = 0;
    }
  }
}
