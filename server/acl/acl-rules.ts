import { isCategory } from '../../protocol/acl-categories';
import { findCommand, LEAF_SPECS } from '../../protocol/command-specs';
import { passwordHash } from '../rules/password';
import { AclUser } from './acl-user';

/** a rule ACL SETUSER (or an aclfile line) cannot apply; the message names the rule, as Redis's does */
export class AclRuleError extends Error {
  constructor(
    readonly rule: string,
    readonly why: string,
  ) {
    super(`Error in ACL SETUSER modifier '${rule.slice(0, 128)}': ${why}`);
  }
}

const ALL_COMMANDS: readonly string[] = LEAF_SPECS.map((s) => s.name);
const HASH = /^[0-9a-fA-F]{64}$/;

/** the leaf commands a +/- word names: @category, a command (all its subcommands), or parent|sub */
function commandsNamed(rule: string, word: string): readonly string[] {
  if (word.startsWith('@')) {
    const cat = word.slice(1);
    if (cat === 'all') return ALL_COMMANDS;
    if (!isCategory(cat)) throw new AclRuleError(rule, `Unknown category '${cat}' (ACL CAT lists them)`);
    return LEAF_SPECS.filter((s) => s.categories.includes(cat)).map((s) => s.name);
  }
  const spec = findCommand(word);
  if (!spec) throw new AclRuleError(rule, `Unknown command '${word}'`);
  if (spec.subcommands) return spec.subcommands.map((s) => s.name);
  return [spec.name];
}

function setCommands(u: AclUser, rule: string, allow: boolean): void {
  const word = rule.slice(1).toLowerCase();
  const names = commandsNamed(rule, word);
  if (word === '@all') {
    u.allowed = allow ? new Set(ALL_COMMANDS) : new Set();
    u.commandRules = [];
  } else {
    for (const n of names) {
      if (allow) u.allowed.add(n);
      else u.allowed.delete(n);
    }
  }
  u.commandRules.push(`${allow ? '+' : '-'}${word}`);
  u.allCommands = u.allowed.size === ALL_COMMANDS.length;
}

function resetPasswords(u: AclUser, nopass: boolean): void {
  u.passwords.clear();
  u.nopass = nopass;
}

function addPattern(u: AclUser, rule: string, pattern: string): void {
  if (pattern === '*') {
    u.patterns = ['*'];
    u.allQueues = true;
  } else {
    if (u.allQueues) {
      throw new AclRuleError(rule, "Adding a pattern after the '*' pattern (or 'allkeys') has no effect; use 'resetkeys' first");
    }
    if (!u.patterns.includes(pattern)) u.patterns.push(pattern);
  }
  u.forgetMatches();
}

function resetPatterns(u: AclUser): void {
  u.patterns = [];
  u.allQueues = false;
  u.forgetMatches();
}

/**
 * Applies one ACL rule to a user, as Redis's ACL SETUSER does (see
 * docs/acl.md for the list). Throws AclRuleError and leaves the user as it
 * was up to that rule; callers that want all-or-nothing apply to a clone.
 */
export function applyRule(u: AclUser, rule: string): void {
  const lower = rule.toLowerCase();
  switch (lower) {
    case 'on':
      u.enabled = true;
      return;
    case 'off':
      u.enabled = false;
      return;
    case 'nopass':
      resetPasswords(u, true);
      return;
    case 'resetpass':
      resetPasswords(u, false);
      return;
    case 'allkeys':
      addPattern(u, rule, '*');
      return;
    case 'resetkeys':
      resetPatterns(u);
      return;
    case 'allcommands':
      setCommands(u, '+@all', true);
      return;
    case 'nocommands':
      setCommands(u, '-@all', false);
      return;
    case 'reset':
      resetPasswords(u, false);
      resetPatterns(u);
      setCommands(u, '-@all', false);
      u.enabled = false;
      return;
    // Redis words with no meaning here (no pub/sub, no payload sanitizing): accepted so Redis ACL lines load
    case 'resetchannels':
    case 'allchannels':
    case '&*':
    case 'sanitize-payload':
    case 'skip-sanitize-payload':
      return;
  }
  const head = rule[0];
  const rest = rule.slice(1);
  switch (head) {
    case '>':
      u.passwords.add(passwordHash(rest));
      u.nopass = false;
      return;
    case '<':
      if (!u.passwords.delete(passwordHash(rest))) throw new AclRuleError(rule, 'the user has no such password');
      return;
    case '#':
      if (!HASH.test(rest)) throw new AclRuleError(rule, 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters');
      u.passwords.add(rest.toLowerCase());
      u.nopass = false;
      return;
    case '!':
      if (!HASH.test(rest)) throw new AclRuleError(rule, 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters');
      if (!u.passwords.delete(rest.toLowerCase())) throw new AclRuleError(rule, 'the user has no such password hash');
      return;
    case '~':
      if (rest === '') throw new AclRuleError(rule, 'empty queue pattern');
      addPattern(u, rule, rest);
      return;
    case '+':
    case '-':
      if (rest === '') throw new AclRuleError(rule, 'Syntax error');
      setCommands(u, rule, head === '+');
      return;
    case '%':
      throw new AclRuleError(rule, 'resq has no read/write-only queue permissions (%R~, %W~): use ~pattern with the commands to allow');
    case '&':
      throw new AclRuleError(rule, 'resq has no pub/sub channels');
    case '(':
      throw new AclRuleError(rule, 'resq does not support selectors');
  }
  throw new AclRuleError(rule, 'Syntax error');
}

/** user names: visible ASCII, no spaces (the aclfile is split on whitespace) */
export function checkUserName(name: string): string | null {
  if (name.length === 0) return 'the user name is empty';
  if (name.length > 128) return 'the user name is longer than 128 bytes';
  if (!/^[\x21-\x7e]+$/.test(name)) return 'the user name must be visible ASCII without spaces';
  return null;
}
