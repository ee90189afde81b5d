import * as fs from 'fs';
import { settingPasswordHashes } from '../rules/password';
import type { AccessControl, Denial, Requester } from '../rules/request-gate';
import { AclFileError, readAclFile, writeAclFile } from './acl-file';
import { AclLog } from './acl-log';
import { AclRuleError, applyRule, checkUserName } from './acl-rules';
import { AclUser } from './acl-user';

export { AclFileError, AclRuleError };

/** an ACL request that cannot be done (deleting the default user) */
export class AclError extends Error {
  override name = 'AclError';
}

/** What the user registry needs from the broker around it. */
export interface AclHooks {
  /** the aclfile setting ('' = none) */
  aclfile(): string;
  /** the requirepass setting: the default user's password ('' = nopass) */
  requirepass(): string;
  /** acllog-max-len */
  logMaxLen(): number;
  /** how ACL LOG describes a requester: context (toplevel / http) and its CLIENT LIST line */
  describe(who: Requester): { context: string; clientInfo: string };
  warn(message: string): void;
}

/** a user name that Redis's messages may quote: bounded, printable */
const shown = (s: string) => s.slice(0, 128);

const NONE: ReadonlySet<string> = new Set();

/** stands in for an unknown user in authenticate(): one impossible password hash, not nopass */
const NOBODY = new AclUser('');
NOBODY.passwords.add('0'.repeat(64));

/**
 * The users (Redis ACL model) and the ACL LOG. The request gate reads it
 * through AccessControl; ACL commands, AUTH and HTTP authentication change
 * or query it. Without an aclfile, users live until the broker stops.
 */
export class Acl implements AccessControl {
  private users = new Map<string, AclUser>();
  readonly log: AclLog;

  constructor(private readonly hooks: AclHooks) {
    this.log = new AclLog(() => hooks.logMaxLen());
    this.users.set('default', this.defaultFromSettings());
  }

  /** the default user as requirepass makes it: on, every command, every queue, that password or nopass */
  private defaultFromSettings(): AclUser {
    const u = new AclUser('default');
    for (const rule of ['on', 'allcommands', 'allkeys']) applyRule(u, rule);
    this.setPassword(u, this.hooks.requirepass());
    return u;
  }

  private setPassword(u: AclUser, text: string): void {
    applyRule(u, text === '' ? 'nopass' : 'resetpass');
    for (const h of text === '' ? [] : settingPasswordHashes(text)) u.passwords.add(h);
  }

  // ---- AccessControl (the request gate) ---------------------------------------

  user(name: string): AclUser | undefined {
    const u = this.users.get(name);
    return u?.enabled ? u : undefined;
  }

  get openDefault(): AclUser | undefined {
    const u = this.users.get('default');
    return u?.enabled && u.nopass ? u : undefined;
  }

  denied(d: Denial, who: Requester): void {
    const { context, clientInfo } = this.hooks.describe(who);
    this.log.add({ reason: d.reason, object: d.object, username: d.username, context, clientInfo });
  }

  // ---- authentication -----------------------------------------------------------

  /** the user, if it exists, is on and the password matches (nopass: any); a failure is logged in ACL LOG */
  authenticate(name: string, password: string, who: Requester): AclUser | undefined {
    const u = this.users.get(name);
    // an unknown user costs the same hash and compare as a known one: timing does not tell which names exist
    const matched = (u ?? NOBODY).passwordOk(password);
    const ok = u !== undefined && matched && u.enabled;
    if (ok) return u;
    const { context, clientInfo } = this.hooks.describe(who);
    this.log.add({ reason: 'auth', object: 'AUTH', username: shown(name), context, clientInfo });
    return undefined;
  }

  /** requirepass changed: it is the default user's password (CONFIG SET requirepass, as in Redis) */
  requirepassChanged(): void {
    const u = this.users.get('default');
    if (u) this.setPassword(u, this.hooks.requirepass());
  }

  // ---- ACL commands ---------------------------------------------------------------

  get(name: string): AclUser | undefined {
    return this.users.get(name);
  }

  /** sorted by name */
  all(): AclUser[] {
    return [...this.users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * ACL SETUSER: creates the user (off, nothing allowed) if new; every rule
   * applies or none (throws AclRuleError). Returns the user's name if it was
   * just switched off: its connections are to be closed.
   */
  setUser(name: string, rules: readonly string[]): ReadonlySet<string> {
    const bad = checkUserName(name);
    if (bad) throw new AclRuleError(name, bad);
    const before = this.users.get(name);
    const u = before ? before.clone() : new AclUser(name);
    for (const rule of rules) applyRule(u, rule);
    this.users.set(name, u);
    return before?.enabled && !u.enabled ? new Set([name]) : NONE;
  }

  /** ACL DELUSER: the names deleted (their connections are to be closed); the default user cannot be */
  delUsers(names: readonly string[]): ReadonlySet<string> {
    if (names.includes('default')) throw new AclError("The 'default' user cannot be removed");
    return new Set(names.filter((n) => this.users.delete(n)));
  }

  // ---- the aclfile --------------------------------------------------------------

  private file(): string {
    const file = this.hooks.aclfile();
    if (file === '') throw new AclFileError('This broker is not configured to use an ACL file (set aclfile); users set with ACL SETUSER live until it stops');
    return file;
  }

  /** start-up: the aclfile if set; a file that does not exist yet is no error (ACL SAVE creates it) */
  loadAtStartup(): void {
    const file = this.hooks.aclfile();
    if (file === '') return;
    if (!fs.existsSync(file)) {
      this.hooks.warn(`aclfile ${file} does not exist yet: only the default user until ACL SAVE writes it`);
      return;
    }
    this.load();
  }

  /**
   * ACL LOAD (and start-up): every user from the file, or none (AclFileError
   * naming the line). Returns the users that were on and are now gone or
   * off: their connections are to be closed.
   */
  load(): ReadonlySet<string> {
    const loaded = readAclFile(this.file());
    if (loaded.has('default')) {
      if (this.hooks.requirepass() !== '') this.hooks.warn('the aclfile defines the default user: requirepass is ignored until CONFIG SET requirepass');
    } else {
      loaded.set('default', this.defaultFromSettings());
    }
    const revoked = new Set<string>();
    for (const [name, u] of this.users) if (u.enabled && !loaded.get(name)?.enabled) revoked.add(name);
    this.users = loaded;
    return revoked;
  }

  /** ACL SAVE */
  save(): void {
    writeAclFile(this.file(), this.all());
  }
}
