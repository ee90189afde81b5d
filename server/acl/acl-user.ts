import { passwordMatchesHashes } from '../rules/password';
import type { UserPermissions } from '../rules/request-gate';
import { globMatch } from './glob';

/** queue names whose pattern verdict a user remembers; past this the memo starts over (bounded memory) */
const MEMO_MAX = 4096;

/**
 * One ACL user: on/off, password hashes (or nopass), the commands it may
 * run and the queue patterns it may touch. The request gate asks canRun /
 * canAccess on every request, so both answer from precomputed state: a Set
 * of allowed command names, and a bounded memo of pattern verdicts per
 * queue name. Rules change a user only through acl-rules.ts.
 */
export class AclUser implements UserPermissions {
  enabled = false;
  nopass = false;
  /** SHA-256 hex of each password */
  readonly passwords = new Set<string>();
  /** the command rules as given (normalized), from the last +@all / -@all on: what ACL LIST shows */
  commandRules: string[] = [];
  /** leaf command names ("enqueue", "config|get") this user may run */
  allowed = new Set<string>();
  allCommands = false;
  /** queue patterns; ["*"] when allQueues */
  patterns: string[] = [];
  allQueues = false;
  private readonly memo = new Map<string, boolean>();

  constructor(readonly name: string) {}

  clone(): AclUser {
    const u = new AclUser(this.name);
    u.enabled = this.enabled;
    u.nopass = this.nopass;
    for (const p of this.passwords) u.passwords.add(p);
    u.commandRules = [...this.commandRules];
    u.allowed = new Set(this.allowed);
    u.allCommands = this.allCommands;
    u.patterns = [...this.patterns];
    u.allQueues = this.allQueues;
    return u;
  }

  canRun(command: string): boolean {
    return this.allCommands || this.allowed.has(command);
  }

  canAccess(queue: string): boolean {
    if (this.allQueues) return true;
    let ok = this.memo.get(queue);
    if (ok === undefined) {
      ok = this.patterns.some((p) => globMatch(p, queue));
      if (this.memo.size >= MEMO_MAX) this.memo.clear();
      this.memo.set(queue, ok);
    }
    return ok;
  }

  /** patterns changed: forget the verdicts */
  forgetMatches(): void {
    this.memo.clear();
  }

  /** constant time over every stored hash; a nopass user accepts any password */
  passwordOk(given: string): boolean {
    const match = passwordMatchesHashes(given, this.passwords);
    return this.nopass || match;
  }

  get flags(): string[] {
    const f = [this.enabled ? 'on' : 'off'];
    if (this.nopass) f.push('nopass');
    if (this.allQueues) f.push('allkeys');
    if (this.allCommands) f.push('allcommands');
    return f;
  }

  /** the command rules as ACL SETUSER takes them, starting from +@all or -@all */
  get commandText(): string {
    const rules = this.commandRules;
    const base = rules[0] === '+@all' || rules[0] === '-@all' ? [] : ['-@all'];
    return [...base, ...rules].join(' ');
  }

  get queueText(): string {
    return this.patterns.map((p) => `~${p}`).join(' ');
  }

  /** the rules that rebuild this user from scratch: an ACL LIST entry and an aclfile line, after "user <name>" */
  describe(): string {
    const parts = [this.enabled ? 'on' : 'off'];
    if (this.nopass) parts.push('nopass');
    for (const h of this.passwords) parts.push(`#${h}`);
    if (this.queueText) parts.push(this.queueText);
    parts.push(this.commandText);
    return parts.join(' ');
  }
}
