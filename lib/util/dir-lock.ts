// One process per stage folder: `.lock` holds the owner's pid, host and start time. A lock
// whose owner is alive (same host) is refused with a LockedError; one whose owner is dead
// (a kill -9, a crash) is taken over. Taking it is an exclusive create, so two processes
// racing for a free folder cannot both win.
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LockedError, fileSystemError } from '../errors.js';
import { processAlive } from './process.js';

export const LOCK_FILE = '.lock';

interface Owner {
  pid: number;
  host: string;
  startedAt?: string;
}

function readOwner(file: string): Owner | null {
  try {
    const o = JSON.parse(readFileSync(file, 'utf8')) as Partial<Owner>;
    return typeof o.pid === 'number' && typeof o.host === 'string' ? (o as Owner) : null;
  } catch {
    return null;
  }
}

function tryCreate(file: string, owner: Owner): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw fileSystemError(e, 'create the lock', file);
  }
  try {
    writeSync(fd, JSON.stringify(owner) + '\n');
  } finally {
    closeSync(fd);
  }
  return true;
}

/** Holds `dir`'s lock until release() is called (or the process dies). */
export interface DirLock {
  file: string;
  release(): void;
}

export function lockDir(dir: string, what = 'this folder'): DirLock {
  const file = path.join(dir, LOCK_FILE);
  const me: Owner = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    if (tryCreate(file, me)) {
      return {
        file,
        release: () => {
          // only our own lock: a taken-over one belongs to someone else now
          if (readOwner(file)?.pid === me.pid) rmSync(file, { force: true });
        },
      };
    }
    const owner = readOwner(file);
    if (owner && owner.host !== me.host) {
      throw new LockedError(
        `${file}: ${what} is in use by process ${owner.pid} on ${owner.host} (since ${owner.startedAt ?? '?'}); delete the lock if that process is gone`,
        file,
        owner,
      );
    }
    if (owner && processAlive(owner.pid) && owner.pid !== me.pid) {
      throw new LockedError(`${file}: ${what} is in use by process ${owner.pid} (since ${owner.startedAt ?? '?'}); wait for it or stop it`, file, owner);
    }
    // A lock without a readable owner may be one being written this instant: only an old one is stale.
    if (!owner && attempt === 0) {
      let age = Infinity;
      try {
        age = Date.now() - statSync(file).mtimeMs;
      } catch {
        continue;
      }
      if (age < 2000) throw new LockedError(`${file}: ${what} is being locked by another process`, file, { pid: 0, host: me.host });
    }
    rmSync(file, { force: true }); // dead owner: take over
  }
  throw new LockedError(`${file}: could not take the lock of ${what}`, file, { pid: 0, host: me.host });
}
