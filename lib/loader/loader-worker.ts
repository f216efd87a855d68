// The loader's worker thread: reads NIfTI files, applies the transforms and posts whole
// batches back as typed arrays (their buffers transferred, not copied). It imports only the
// pure-TypeScript data modules, never the native addon: tensors are made on the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { DataLoadError } from '../data/errors.js';
import { SamplePipeline, type SamplePipelineConfig, type SampleRef } from '../data/sample-pipeline.js';

export interface BatchRequest {
  type: 'batch';
  id: number;
  refs: SampleRef[];
  seeds: number[];
}

export type WorkerReply =
  | { type: 'batch'; id: number; image: Float32Array; label: Uint8Array | null; shape: number[]; spacing: number[][] }
  | { type: 'error'; id: number; name: string; message: string; file: string | null };

if (parentPort) {
  const port = parentPort;
  const pipeline = new SamplePipeline((workerData as { config: SamplePipelineConfig }).config);
  port.on('message', (msg: BatchRequest) => {
    if (msg.type !== 'batch') return;
    let reply: WorkerReply;
    const transfer: ArrayBuffer[] = [];
    try {
      const b = pipeline.batch(msg.refs, msg.seeds);
      reply = { type: 'batch', id: msg.id, ...b };
      transfer.push(b.image.buffer as ArrayBuffer);
      if (b.label) transfer.push(b.label.buffer as ArrayBuffer);
    } catch (e) {
      const err = e as Error;
      reply = {
        type: 'error',
        id: msg.id,
        name: err?.name ?? 'Error',
        message: err?.message ?? String(e),
        file: e instanceof DataLoadError ? e.file : (msg.refs[0]?.image ?? null),
      };
    }
    port.postMessage(reply, transfer);
  });
}
