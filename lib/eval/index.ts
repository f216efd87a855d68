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
  type FalsePositives,
} from './dice.js';
export {
  SubjectScorer,
  scoreSubjects,
  falsePositiveTotals,
  SCORING_POLICIES,
  type ScoringPolicy,
  type ScoredSlice,
  type SubjectScorerOptions,
  type FalsePositiveTotal,
} from './subject-scores.js';
export { validateResult, summarizeResult, pairedScores, compareResults, type EvaluationResult, type PairedScores } from './results.js';
export { summarizeArm, summarizeArms, groupArms, type ArmSummary } from './arm-summary.js';
export { compareArms, seedAverage, comparisonRank, AVERAGE, type Comparison, type CompareOptions } from './comparisons.js';
export * from './stats.js';
