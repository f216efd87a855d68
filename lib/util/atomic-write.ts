// Files that are either wholly old or wholly new: write beside, fsync, rename, fsync the folder.
// A process killed mid-write leaves the previous file intact (and at worst a stray temp file).
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

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

export async function writeFileAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const temp = tempPathFor(file);
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  syncDirectory(path.dirname(file));
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
    throw e;
  }
  syncDirectory(path.dirname(file));
}
