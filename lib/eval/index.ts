// Evaluation: Dice per organ and subject, summaries, paired comparisons (Wilcoxon signed-rank).
export {
  ORGANS,
  NUM_CLASSES,
  diceScores,
  DiceAccumulator,
  summarizeDice,
  subjectMean,
  type DiceOptions,
  type DiceCounts,
  type SubjectDice,
  type DiceSummary,
} from './dice.js';
export { validateResult, summarizeResult, pairedScores, compareResults, type EvaluationResult, type PairedScores } from './results.js';
export * from './stats.js';
