// Python bindings of native/ops: the very sources the Node addon compiles, built by
// torch.utils.cpp_extension (see native_ops.py) for tests and timings against Python.
#include <torch/extension.h>

#include <string>
#include <vector>

#include "ops/prototype_ops.h"
#include "ops/reference.h"

namespace {

sd::ops::DistOptions Options(double tau, double inter_weight, double intra_weight, std::optional<int64_t> ignore_index,
                             bool check_labels, const std::string& channels = "present",
                             const std::vector<bool>& teacher_mask = {}) {
  sd::ops::DistOptions o;
  o.tau = tau;
  o.interWeight = inter_weight;
  o.intraWeight = intra_weight;
  o.ignoreIndex = ignore_index;
  o.checkLabels = check_labels;
  if (channels != "present" && channels != "all") throw std::invalid_argument("channels: expected 'present' or 'all'");
  o.allChannels = channels == "all";
  o.teacherMask.assign(teacher_mask.begin(), teacher_mask.end());
  return o;
}

}  // namespace

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  namespace py = pybind11;
  m.doc() = "slice-distill's fused prototype / DIST ops";
  m.def(
      "class_prototypes",
      [](const at::Tensor& logits, const at::Tensor& labels, int64_t num_classes, std::optional<int64_t> ignore_index,
         bool reference) {
        auto o = Options(1, 1, 1, ignore_index, true);
        return reference ? sd::ops::reference::ClassPrototypes(logits, labels, num_classes, o)
                         : sd::ops::ClassPrototypes(logits, labels, num_classes, o);
      },
      py::arg("logits"), py::arg("labels"), py::arg("num_classes"), py::arg("ignore_index") = py::none(),
      py::arg("reference") = false);
  m.def(
      "dist_loss",
      [](const at::Tensor& protos, const at::Tensor& counts, const at::Tensor& teacher, double tau, double inter_weight,
         double intra_weight, const std::string& channels, const std::vector<bool>& teacher_mask, bool reference) {
        auto o = Options(tau, inter_weight, intra_weight, std::nullopt, true, channels, teacher_mask);
        return reference ? sd::ops::reference::DistLoss(protos, counts, teacher, o)
                         : sd::ops::DistLoss(protos, counts, teacher, o);
      },
      py::arg("prototypes"), py::arg("counts"), py::arg("teacher"), py::arg("tau") = 1.0, py::arg("inter_weight") = 1.0,
      py::arg("intra_weight") = 1.0, py::arg("channels") = "present", py::arg("teacher_mask") = std::vector<bool>{},
      py::arg("reference") = false);
  m.def(
      "proto_dist_loss",
      [](const at::Tensor& logits, const at::Tensor& labels, const at::Tensor& teacher, double tau, double inter_weight,
         double intra_weight, std::optional<int64_t> ignore_index, bool check_labels, const std::string& channels,
         const std::vector<bool>& teacher_mask, bool reference) {
        auto o = Options(tau, inter_weight, intra_weight, ignore_index, check_labels, channels, teacher_mask);
        return reference ? sd::ops::reference::ProtoDistLoss(logits, labels, teacher, o)
                         : sd::ops::ProtoDistLoss(logits, labels, teacher, o);
      },
      py::arg("logits"), py::arg("labels"), py::arg("teacher"), py::arg("tau") = 1.0, py::arg("inter_weight") = 1.0,
      py::arg("intra_weight") = 1.0, py::arg("ignore_index") = py::none(), py::arg("check_labels") = true,
      py::arg("channels") = "present", py::arg("teacher_mask") = std::vector<bool>{}, py::arg("reference") = false);
}
