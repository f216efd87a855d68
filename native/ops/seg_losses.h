// Segmentation losses on logits [B, C, *spatial] and integer labels [B, *spatial], 2D or 3D.
#pragma once
#include <ATen/core/Tensor.h>

#include <optional>

namespace sd::ops {

// Throws std::out_of_range if a label other than ignore_index lies outside [0, classes).
void CheckLabelValues(const at::Tensor& labels, int64_t classes, std::optional<int64_t> ignore_index);

// Throws std::out_of_range unless labels has logits' batch and spatial shape and every
// label outside ignore_index lies in [0, C).
void CheckSegmentationLabels(const at::Tensor& logits, const at::Tensor& labels, std::optional<int64_t> ignore_index);

// Mean cross-entropy over non-ignored pixels, optionally class-weighted (as torch's
// F.cross_entropy with reduction='mean').
at::Tensor CrossEntropy(const at::Tensor& logits, const at::Tensor& labels,
                        const std::optional<at::Tensor>& class_weights, std::optional<int64_t> ignore_index);

// Set by the caller: the defaults (and their reasons) live in lib/losses/options.ts.
struct DiceOptions {
  double smooth = 0;
  bool squared = false;             // squared denominators: sum p^2 + sum y^2
  bool include_background = false;  // whether class 0 counts
  std::optional<int64_t> ignore_index;
};

// Soft Dice loss on softmax(logits): per class over the whole batch,
// 1 - (2 sum(p y) + smooth) / (den + smooth), averaged over the classes.
at::Tensor SoftDice(const at::Tensor& logits, const at::Tensor& labels, const DiceOptions& options);

// SoftDice in two parts, so data-parallel training can sum the per-class sums over the ranks
// before the ratio (the Dice of the global batch, not a mean of the ranks' Dice).
struct DiceSums {
  at::Tensor intersect, predicted, target;  // [C] each: sum p y, sum p (or p^2), sum y
};
DiceSums SoftDiceSums(const at::Tensor& logits, const at::Tensor& labels, const DiceOptions& options);
at::Tensor SoftDiceFromSums(const DiceSums& sums, const DiceOptions& options);

}  // namespace sd::ops
