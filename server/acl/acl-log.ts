/** why an ACL LOG entry was made (Redis's reasons; resq has no channels) */
export type DenialReason = 'command' | 'key' | 'auth';

export interface AclLogEntry {
  count: number;
  reason: DenialReason;
  /** toplevel (a RESP request) or http */
  context: string;
  /** the command, the queue, or AUTH */
  object: string;
  username: string;
  clientInfo: string;
  entryId: number;
  created: number;
  updated: number;
}

/** events like one within this long are counted into it instead of adding an entry, as Redis does */
const GROUP_MS = 60_000;

/**
 * ACL LOG: recent denials and failed logins, newest first, at most
 * `maxLen()` entries (the acllog-max-len setting). A repeat of the newest
 * similar event within a minute bumps its count, so a client retrying a
 * forbidden command in a loop takes one entry, not the whole log.
 */
export class AclLog {
  private entries: AclLogEntry[] = [];
  private nextId = 0;

  constructor(
    private readonly maxLen: () => number,
    private readonly now: () => number = Date.now,
  ) {}

  add(e: { reason: DenialReason; context: string; object: string; username: string; clientInfo: string }): void {
    const now = this.now();
    const same = this.entries.find(
      (x) => x.reason === e.reason && x.context === e.context && x.object === e.object && x.username === e.username && now - x.updated < GROUP_MS,
    );
    if (same) {
      same.count++;
      same.updated = now;
      same.clientInfo = e.clientInfo;
      this.entries.splice(this.entries.indexOf(same), 1);
      this.entries.unshift(same);
      return;
    }
    this.entries.unshift({ ...e, count: 1, entryId: this.nextId++, created: now, updated: now });
    this.trim();
  }

  /** newest first */
  newest(count: number): readonly AclLogEntry[] {
    this.trim();
    return this.entries.slice(0, count);
  }

  reset(): void {
    this.entries = [];
  }

  private trim(): void {
    const max = this.maxLen();
    if (this.entries.length > max) this.entries.length = max;
  }
}
