// Files that are either wholly old or wholly new: write beside, fsync, rename, fsync the folder.
// A process killed mid-write leaves the previous file intact (and at worst a stray temp file,
// which removeStaleTemps clears); a failure (ENOSPC, read-only) is a FileSystemError naming
// the file and leaves no temp file behind.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { copyFile, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileSystemError } from '../errors.js';
import { processAlive } from './process.js';

/** `.NAME.PID.RANDOM.tmp`: the pid lets a later run tell a dead writer's leftovers from a live one's. */
const TEMP = /^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/;

function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

function syncDirectory(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // some file systems refuse to fsync a directory; the rename itself is still atomic
  }
}

async function syncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Runs `fill(temp)`, fsyncs and renames the temp file over `file`. */
async function replaceAtomic(file: string, operation: string, fill: (temp: string) => Promise<void>): Promise<void> {
  const temp = tempPathFor(file);
  try {
    await fill(temp);
    await syncFile(temp);
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw fileSystemError(e, operation, file);
  }
  syncDirectory(path.dirname(file));
}

export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  await replaceAtomic(file, 'write', async (temp) => {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(data);
    } finally {
      await handle.close();
    }
  });
}

/** Copies `from` over `to` atomically: `to` is the old file or a whole copy, never a part. */
export async function copyFileAtomic(from: string, to: string): Promise<void> {
  await replaceAtomic(to, `copy ${from} to`, (temp) => copyFile(from, temp));
}

export function writeFileAtomicSync(file: string, data: Uint8Array | string): void {
  replaceAtomicSync(file, (temp) => writeFileSync(temp, data));
}

/** Runs `write(temp)` for a writer that takes a path (e.g. a native save), then renames. */
export function replaceAtomicSync(file: string, write: (temp: string) => void): void {
  const temp = tempPathFor(file);
  try {
    write(temp);
    const fd = openSync(temp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (e) {
    rmSync(temp, { force: true });
    throw fileSystemError(e, 'write', file);
  }
  syncDirectory(path.dirname(file));
}

/** Removes the temp files of writers that died mid-write (never those of a live process). */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP.exec(name);
    if (!m || processAlive(Number(m[1]))) continue;
    rmSync(path.join(dir, name), { force: true });
    removed.push(name);
  }
  return removed;
}
