#include "ops/seg_losses.h"

#include <ATen/ATen.h>

#include <stdexcept>
#include <string>

namespace sd::ops {
namespace {

std::string Shape(at::IntArrayRef s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); i++) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

}  // namespace

void CheckSegmentationLabels(const at::Tensor& logits, const at::Tensor& labels, std::optional<int64_t> ignore_index) {
  if (logits.dim() < 3)
    throw std::out_of_range("logits: expected [B, C, H, W] or [B, C, D, H, W], got " + Shape(logits.sizes()));
  if (!at::isFloatingType(logits.scalar_type()))
    throw std::invalid_argument("logits: expected a floating-point tensor");
  if (!at::isIntegralType(labels.scalar_type(), /*includeBool=*/false)) {
    throw std::invalid_argument("labels: expected an integer tensor");
  }
  std::vector<int64_t> expected{logits.size(0)};
  for (int64_t d = 2; d < logits.dim(); d++) expected.push_back(logits.size(d));
  if (labels.sizes() != at::IntArrayRef(expected)) {
    throw std::out_of_range("labels: shape " + Shape(labels.sizes()) + " does not match logits " +
                            Shape(logits.sizes()) + " (expected " + Shape(expected) + ")");
  }
  CheckLabelValues(labels, logits.size(1), ignore_index);
}

void CheckLabelValues(const at::Tensor& labels, int64_t classes, std::optional<int64_t> ignore_index) {
  if (labels.numel() == 0) return;
  at::Tensor valid = ignore_index ? labels.ne(*ignore_index) : at::ones_like(labels, at::kBool);
  at::Tensor bad = valid.logical_and(labels.lt(0).logical_or(labels.ge(classes)));
  if (bad.any().item<bool>()) {
    int64_t value = labels.masked_select(bad).flatten()[0].item<int64_t>();
    throw std::out_of_range("labels: value " + std::to_string(value) + " is outside [0, " + std::to_string(classes) +
                            ")" +
                            (ignore_index ? " and is not the ignore index " + std::to_string(*ignore_index) : ""));
  }
}

at::Tensor CrossEntropy(const at::Tensor& logits, const at::Tensor& labels,
                        const std::optional<at::Tensor>& class_weights, std::optional<int64_t> ignore_index) {
  if (class_weights && (class_weights->dim() != 1 || class_weights->size(0) != logits.size(1))) {
    throw std::out_of_range("classWeights: expected " + std::to_string(logits.size(1)) + " weights, got shape " +
                            Shape(class_weights->sizes()));
  }
  std::optional<at::Tensor> weight;
  if (class_weights) weight = class_weights->to(logits.device(), logits.scalar_type());
  return at::cross_entropy_loss(logits, labels.to(at::kLong), weight, at::Reduction::Mean, ignore_index.value_or(-100));
}

DiceSums SoftDiceSums(const at::Tensor& logits, const at::Tensor& labels, const DiceOptions& options) {
  const int64_t classes = logits.size(1);
  at::Tensor probs = at::softmax(logits, 1);
  at::Tensor target = labels.to(at::kLong);
  at::Tensor valid;
  if (options.ignore_index) {
    valid = target.ne(*options.ignore_index);
    target = target.masked_fill(valid.logical_not(), 0);
  }
  // one_hot puts classes last; move them to dim 1 like the logits
  at::Tensor onehot = at::one_hot(target, classes).movedim(-1, 1).to(probs.scalar_type());
  if (valid.defined()) {
    at::Tensor mask = valid.unsqueeze(1).to(probs.scalar_type());
    probs = probs * mask;
    onehot = onehot * mask;
  }
  std::vector<int64_t> reduce_dims{0};
  for (int64_t d = 2; d < logits.dim(); d++) reduce_dims.push_back(d);
  DiceSums sums;
  sums.intersect = (probs * onehot).sum(reduce_dims);
  sums.predicted = options.squared ? probs.square().sum(reduce_dims) : probs.sum(reduce_dims);
  sums.target = onehot.sum(reduce_dims);  // onehot^2 == onehot
  return sums;
}

at::Tensor SoftDiceFromSums(const DiceSums& sums, const DiceOptions& options) {
  at::Tensor per_class = 1 - (2 * sums.intersect + options.smooth) / (sums.predicted + sums.target + options.smooth);
  if (!options.include_background) per_class = per_class.narrow(0, 1, per_class.size(0) - 1);
  return per_class.mean();
}

at::Tensor SoftDice(const at::Tensor& logits, const at::Tensor& labels, const DiceOptions& options) {
  return SoftDiceFromSums(SoftDiceSums(logits, labels, options), options);
}

}  // namespace sd::ops
