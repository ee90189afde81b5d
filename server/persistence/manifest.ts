import * as fs from 'fs';
import { FsOps, writeFileAtomic } from './fs-ops';
import { MANIFEST, inDir, snapshotName } from './data-files';

/** one snapshot and the log segment that follows it (a snapshot holds the state as of that segment's start) */
export interface Generation {
  snapshot: string;
  firstSegment: number;
}

/**
 * The manifest names the current snapshot and the first log segment after
 * it, and the generation before (kept on disk until the next snapshot, so a
 * damaged newest snapshot still leaves one to load). JSON: it is tiny and
 * an operator can read it. Written atomically (temp, fsync, rename, fsync
 * the directory), so it is always either the old or the new one whole.
 */
export interface Manifest {
  format: 1;
  current: Generation;
  previous: Generation | null;
  /** unix ms when the current snapshot was put in place */
  savedAt: number;
}

export type ManifestRead = { kind: 'ok'; manifest: Manifest } | { kind: 'missing' } | { kind: 'bad'; reason: string };

export async function writeManifest(ops: FsOps, dir: string, m: Manifest): Promise<void> {
  await writeFileAtomic(ops, dir, inDir(dir, MANIFEST), Buffer.from(JSON.stringify(m, null, 2) + '\n'));
}

function generation(v: unknown): Generation | null {
  const g = v as Generation;
  if (!g || typeof g !== 'object' || !Number.isSafeInteger(g.firstSegment) || g.firstSegment < 1) return null;
  if (g.snapshot !== snapshotName(g.firstSegment)) return null;
  return { snapshot: g.snapshot, firstSegment: g.firstSegment };
}

export function readManifest(dir: string): ManifestRead {
  let text: string;
  try {
    text = fs.readFileSync(inDir(dir, MANIFEST), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'bad', reason: (e as Error).message };
  }
  if (text.trim() === '') return { kind: 'bad', reason: 'empty file' };
  let v: Manifest;
  try {
    v = JSON.parse(text) as Manifest;
  } catch (e) {
    return { kind: 'bad', reason: `not JSON (${(e as Error).message})` };
  }
  const current = generation(v?.current);
  if (v?.format !== 1 || !current) return { kind: 'bad', reason: 'missing or invalid fields' };
  const previous = v.previous === null || v.previous === undefined ? null : generation(v.previous);
  return { kind: 'ok', manifest: { format: 1, current, previous, savedAt: Number(v.savedAt) || 0 } };
}
