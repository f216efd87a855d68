// What a kill between the writes of an epoch's end can leave behind, put right on resume:
// the epoch is saved in last.ckpt first, then copied to best.ckpt, then appended to the log,
// so a kill in between leaves a stale best.ckpt, a missing log line, or a torn one.
import { existsSync, readFileSync } from 'node:fs';
import { readCheckpointInfo } from './checkpoint.js';
import { copyFileAtomic, writeFileAtomic } from '../util/atomic-write.js';

export interface RunFiles {
  last: string;
  best: string;
  log: string;
}

export interface SavedPosition {
  /** Epochs completed. */
  epoch: number;
  bestEpoch: number | null;
  history: Record<string, number>[];
}

/** Makes best.ckpt and the log agree with last.ckpt's position; returns what was repaired. */
export async function repairRunFiles(files: RunFiles, pos: SavedPosition, epochs: number): Promise<string[]> {
  const repaired: string[] = [];
  // the epoch saved last was the best (or the final one of a run without a metric): best.ckpt
  // must hold it, and holds an older one when the kill came before the copy
  const lastWasBest = pos.epoch > 0 && (pos.bestEpoch === null ? pos.epoch === epochs : pos.bestEpoch === pos.epoch - 1);
  if (lastWasBest) {
    const held = existsSync(files.best)
      ? await readCheckpointInfo(files.best).then(
          (i) => i.epoch,
          () => -1,
        )
      : -1;
    if (held !== pos.epoch) {
      await copyFileAtomic(files.last, files.best);
      repaired.push(`${files.best} (it held epoch ${held < 0 ? 'none' : held}, not ${pos.epoch})`);
    }
  }
  // the log: the lines that parse, one per saved epoch, the missing ones from the history
  const text = existsSync(files.log) ? readFileSync(files.log, 'utf8') : '';
  const kept: string[] = [];
  for (const line of text.split('\n')) {
    if (kept.length === pos.history.length) break;
    try {
      JSON.parse(line);
      kept.push(line);
    } catch {
      break; // a torn line: the rest is rebuilt
    }
  }
  for (let i = kept.length; i < pos.history.length; i++) kept.push(JSON.stringify({ ...pos.history[i], best: i === pos.bestEpoch }));
  const rebuilt = kept.map((l) => l + '\n').join('');
  if (rebuilt !== text) {
    await writeFileAtomic(files.log, rebuilt);
    repaired.push(files.log);
  }
  return repaired;
}
