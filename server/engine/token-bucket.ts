/**
 * A token bucket: `rate` tokens per `per` ms, holding at most `rate` (so a
 * burst is at most one window's worth). Pure: the caller passes the time.
 * Tokens are fractional; one claim takes one whole token.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private rate: number,
    private per: number,
    now: number,
    /** a new bucket is full; one rebuilt after a restart starts empty, so a restart never adds a burst */
    full = true,
  ) {
    this.tokens = full ? rate : 0;
    this.at = now;
  }

  /** tokens available at `now` (time never runs backwards for the bucket) */
  available(now: number): number {
    if (now > this.at) {
      this.tokens = Math.min(this.rate, this.tokens + ((now - this.at) * this.rate) / this.per);
      this.at = now;
    }
    return this.tokens;
  }

  /** takes one token; the caller checked available(now) >= 1 */
  take(now: number): void {
    this.available(now);
    this.tokens -= 1;
  }

  /** when the next whole token is there (now if one is) */
  nextTokenAt(now: number): number {
    const have = this.available(now);
    return have >= 1 ? now : now + Math.ceil(((1 - have) * this.per) / this.rate);
  }

  /** when the bucket is full again: from then on it is the same as a new one */
  fullAt(now: number): number {
    const have = this.available(now);
    return have >= this.rate ? now : now + Math.ceil(((this.rate - have) * this.per) / this.rate);
  }

  /** a changed limit keeps the tokens already earned, up to the new size */
  resize(rate: number, per: number, now: number): void {
    this.available(now);
    this.rate = rate;
    this.per = per;
    this.tokens = Math.min(this.tokens, rate);
  }
}
