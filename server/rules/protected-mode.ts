/**
 * Protected mode (as in Redis): a broker with no password that listens on a
 * non-loopback address would serve anyone who can reach it, so it serves
 * only clients on the loopback interface and tells the others how to
 * change that. Pure functions of settings and addresses; the listener
 * asks on each accepted connection, so CONFIG SET takes effect at once.
 */

import type { Settings } from '../../config/settings';

/** what protected mode depends on */
export interface ProtectionView {
  protectedMode: boolean;
  /** a password is set (requirepass not empty) */
  passwordSet: boolean;
  /** the address the listener binds to */
  bind: string;
  /** the setting that names it: bind (RESP) or http-bind (HTTP) */
  bindSetting: 'bind' | 'http-bind';
}

/** the view of a listener's settings: RESP (`bind`) or HTTP (`http-bind`); read live, so CONFIG SET counts at once */
export function protectionOf(s: Settings, bindSetting: 'bind' | 'http-bind'): ProtectionView {
  return { protectedMode: s.bool('protected-mode'), passwordSet: s.str('requirepass') !== '', bind: s.str(bindSetting), bindSetting };
}

/** 127.0.0.0/8, ::1, and IPv4 loopback written as IPv6 (::ffff:127.x.x.x) */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.toLowerCase();
  return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}

/** a bind address only reachable from this host */
export function isLoopbackBind(bind: string): boolean {
  return bind.toLowerCase() === 'localhost' || isLoopbackAddress(bind);
}

/** the broker serves the network without a password: protected mode refuses non-loopback clients */
export function exposedWithoutPassword(v: ProtectionView): boolean {
  return v.protectedMode && !v.passwordSet && !isLoopbackBind(v.bind);
}

/** the error a client gets instead of service (one line, without the leading `-`), or null when it is served */
export function protectedModeRefusal(v: ProtectionView, remoteAddress: string | undefined): string | null {
  if (!exposedWithoutPassword(v) || isLoopbackAddress(remoteAddress)) return null;
  return (
    `DENIED resq is running in protected mode because protected mode is enabled, no password is set, ` +
    `and it listens on ${v.bind}, which is not a loopback address. In this mode only clients on the loopback ` +
    `interface are served. To serve clients from other hosts, do ONE of these: ` +
    `1) set a password: from the broker's host, CONFIG SET requirepass <password> (clients then AUTH); ` +
    `2) listen on loopback only: restart with --${v.bindSetting} 127.0.0.1 (and reach it through an SSH tunnel or a proxy); ` +
    `3) if this network is trusted, turn protection off: from the broker's host, CONFIG SET protected-mode no, ` +
    `or restart with --protected-mode no. MAKE SURE the broker is not reachable from the internet if you do so.`
  );
}

/** the start-up warning when protected mode is what stands between the network and the broker */
export function exposureWarning(v: ProtectionView): string | null {
  if (!v.passwordSet && !isLoopbackBind(v.bind)) {
    return v.protectedMode
      ? `${v.bindSetting} ${v.bind} is not a loopback address and no password is set: protected mode is on, so only loopback clients are served (others get DENIED); set requirepass to serve them`
      : `${v.bindSetting} ${v.bind} is not a loopback address, no password is set and protected mode is off: anyone who can reach this port can use the broker`;
  }
  return null;
}
