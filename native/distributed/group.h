// A process group for data-parallel training: c10d's Gloo (CPU) or NCCL (CUDA) backend
// behind a TCPStore rendezvous. Plain C++ (no N-API): the training step and the binding
// both use it. Built with c10d only where SD_WITH_DISTRIBUTED is defined (the gloo headers
// were found); otherwise Create throws and Compiled() says why.
#pragma once
#include <ATen/core/Tensor.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

namespace sd::dist {

// A collective or the rendezvous failed: a peer died, timed out or was never started.
struct DistributedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct GroupOptions {
  std::string backend = "gloo";  // "gloo" | "nccl"
  int rank = 0;
  int worldSize = 1;
  std::string masterAddr = "127.0.0.1";
  uint16_t masterPort = 29500;
  std::chrono::milliseconds timeout{300000};
};

class Group {
 public:
  virtual ~Group() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const std::string& backend() const = 0;
  virtual std::chrono::milliseconds timeout() const = 0;

  // In place on every rank. `what` names the operation in the error message.
  virtual void AllReduceSum(std::vector<at::Tensor>& tensors, const char* what) = 0;
  virtual void Broadcast(std::vector<at::Tensor>& tensors, int root, const char* what) = 0;
  virtual void Barrier(const char* what) = 0;

  // True the first time `key` (a module) is seen: its parameters are then broadcast once.
  bool FirstSight(const void* key) {
    std::lock_guard<std::mutex> lock(mutex_);
    return seen_.insert(key).second;
  }

 private:
  std::mutex mutex_;
  std::unordered_set<const void*> seen_;
};

// Whether this build has c10d with `backend` ("gloo" / "nccl").
bool Compiled(const std::string& backend);

// Rendezvous and connect; blocks until every rank has joined or the timeout passes.
std::shared_ptr<Group> Create(const GroupOptions& options);

// The process-wide group of the training steps (null: one process).
std::shared_ptr<Group> Current();
void SetCurrent(std::shared_ptr<Group> group);

}  // namespace sd::dist
