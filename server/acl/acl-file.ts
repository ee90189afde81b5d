import * as fs from 'fs';
import * as path from 'path';
import { AclUser } from './acl-user';
import { AclRuleError, applyRule, checkUserName } from './acl-rules';

/** a bad aclfile: the message names the file and line */
export class AclFileError extends Error {
  override name = 'AclFileError';
}

/**
 * Parses an aclfile (Redis's format): one `user <name> <rule> ...` per line;
 * blank lines and lines starting with '#' are skipped. Each user starts
 * from nothing (off, no password, no command, no queue) and its rules are
 * applied left to right. Any bad line fails the whole file.
 */
export function parseAclFile(text: string, source: string): Map<string, AclUser> {
  const users = new Map<string, AclUser>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const words = lines[i]
      .trim()
      .split(/\s+/)
      .filter((w) => w !== '');
    if (words.length === 0 || words[0].startsWith('#')) continue;
    const where = `${source}:${i + 1}`;
    if (words[0] !== 'user') throw new AclFileError(`${where}: a line must start with 'user', found '${words[0].slice(0, 64)}'`);
    if (words.length < 2) throw new AclFileError(`${where}: 'user' without a name`);
    const name = words[1];
    const bad = checkUserName(name);
    if (bad) throw new AclFileError(`${where}: ${bad}`);
    if (users.has(name)) throw new AclFileError(`${where}: duplicate user '${name}'`);
    const u = new AclUser(name);
    for (const rule of words.slice(2)) {
      try {
        applyRule(u, rule);
      } catch (e) {
        if (e instanceof AclRuleError) throw new AclFileError(`${where}: ${e.message}`);
        throw e;
      }
    }
    users.set(name, u);
  }
  return users;
}

export function formatAclFile(users: Iterable<AclUser>): string {
  let out = '';
  for (const u of users) out += `user ${u.name} ${u.describe()}\n`;
  return out;
}

/** reads the aclfile as bytes (latin1: one char per byte, as names arrive from the wire) */
export function readAclFile(file: string): Map<string, AclUser> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'latin1');
  } catch (e) {
    throw new AclFileError(`cannot read the aclfile ${file}: ${(e as Error).message}`);
  }
  return parseAclFile(text, file);
}

/** writes the file whole or not at all: temp file, fsync, rename over, fsync the directory */
export function writeAclFile(file: string, users: Iterable<AclUser>): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, Buffer.from(formatAclFile(users), 'latin1'));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  const dir = fs.openSync(path.dirname(file), 'r');
  try {
    fs.fsyncSync(dir);
  } finally {
    fs.closeSync(dir);
  }
}
