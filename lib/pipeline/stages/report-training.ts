// The report's training curves: for each arm shown, the train-log.jsonl beside its checkpoint
// (the Trainer writes both into the stage folder), one chart of the loss terms and the
// validation Dice per epoch. Arms whose log is gone are left out, not an error.
import path from 'node:path';
import type { LineChartData } from '../../report/charts.js';
import type { Figure } from '../../report/html.js';
import { readTrainLog, trainingCurveData } from '../../report/training-curves.js';
import type { ModelToEvaluate } from '../results-file.js';

export const TRAIN_LOG = 'train-log.jsonl';

export function trainLogOf(m: Pick<ModelToEvaluate, 'checkpoint'>): string {
  return path.join(path.dirname(m.checkpoint), TRAIN_LOG);
}

export function trainingFigures(models: readonly ModelToEvaluate[], label: (variant: string) => string): Figure<LineChartData>[] {
  return models.flatMap((m) => {
    const epochs = readTrainLog(trainLogOf(m));
    if (!epochs?.length) return [];
    const seed = m.seed !== undefined ? ` (seed ${m.seed})` : '';
    const title = `${m.model}: ${label(m.variant)}${seed}`;
    return [
      {
        id: `training-${m.model}-${m.variant}${m.seed !== undefined ? `-s${m.seed}` : ''}`,
        caption: `${title}: epoch means of the loss and its terms, and the validation Dice, from ${TRAIN_LOG}.`,
        data: trainingCurveData(epochs, title),
      },
    ];
  });
}
