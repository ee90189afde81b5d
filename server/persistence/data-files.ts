import * as fs from 'fs';
import * as path from 'path';

/**
 * The names of the files in the data directory:
 *   log-000001.rlog       log segments, numbered in order, never reused
 *   snapshot-000007.rsnap the state as of the start of segment 7
 *   MANIFEST              JSON: the current snapshot and the first segment after it
 *   *.tmp                 being written (a leftover after a crash is ignored and removed)
 */
export const MANIFEST = 'MANIFEST';

export function segmentName(n: number): string {
  return `log-${String(n).padStart(6, '0')}.rlog`;
}

export function snapshotName(firstSegment: number): string {
  return `snapshot-${String(firstSegment).padStart(6, '0')}.rsnap`;
}

const SEGMENT_RE = /^log-(\d+)\.rlog$/;
const SNAPSHOT_RE = /^snapshot-(\d+)\.rsnap$/;

export interface DirListing {
  /** segment numbers, ascending */
  segments: number[];
  /** snapshot first-segment numbers, ascending */
  snapshots: number[];
  temps: string[];
}

export function listDataDir(dir: string): DirListing {
  const out: DirListing = { segments: [], snapshots: [], temps: [] };
  for (const name of fs.readdirSync(dir)) {
    let m: RegExpExecArray | null;
    if ((m = SEGMENT_RE.exec(name))) out.segments.push(Number(m[1]));
    else if ((m = SNAPSHOT_RE.exec(name))) out.snapshots.push(Number(m[1]));
    else if (name.endsWith('.tmp')) out.temps.push(name);
  }
  out.segments.sort((a, b) => a - b);
  out.snapshots.sort((a, b) => a - b);
  return out;
}

export function inDir(dir: string, name: string): string {
  return path.join(dir, name);
}
