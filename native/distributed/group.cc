#include "distributed/group.h"

#include <c10/util/Exception.h>

#ifdef SD_WITH_DISTRIBUTED
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef SD_WITH_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#endif

namespace sd::dist {
namespace {

std::mutex current_mutex;
std::shared_ptr<Group> current;

#ifdef SD_WITH_DISTRIBUTED

// c10d's own message, without the C++ stack trace it may carry.
std::string Reason(const std::exception& e) {
  std::string message = e.what();
  if (const auto* c10 = dynamic_cast<const c10::Error*>(&e)) message = c10->what_without_backtrace();
  auto cut = message.find("\nException raised from ");
  if (cut != std::string::npos) message.resize(cut);
  return message;
}

class C10dGroup final : public Group {
 public:
  C10dGroup(const GroupOptions& o, c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<c10d::Backend> backend)
      : options_(o), store_(std::move(store)), backend_(std::move(backend)) {}

  int rank() const override { return options_.rank; }
  int size() const override { return options_.worldSize; }
  const std::string& backend() const override { return options_.backend; }
  std::chrono::milliseconds timeout() const override { return options_.timeout; }

  void AllReduceSum(std::vector<at::Tensor>& tensors, const char* what) override {
    Run(what, [&] {
      // one call per tensor, all in flight at once: each is a flat bucket already
      std::vector<c10::intrusive_ptr<c10d::Work>> works;
      for (auto& t : tensors) {
        std::vector<at::Tensor> one{t};
        works.push_back(backend_->allreduce(one));
      }
      for (auto& w : works) w->wait();
    });
  }

  void Broadcast(std::vector<at::Tensor>& tensors, int root, const char* what) override {
    Run(what, [&] {
      std::vector<c10::intrusive_ptr<c10d::Work>> works;
      c10d::BroadcastOptions opts;
      opts.rootRank = root;
      for (auto& t : tensors) {
        std::vector<at::Tensor> one{t};
        works.push_back(backend_->broadcast(one, opts));
      }
      for (auto& w : works) w->wait();
    });
  }

  void Barrier(const char* what) override {
    Run(what, [&] { backend_->barrier()->wait(); });
  }

 private:
  template <typename F>
  void Run(const char* what, F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      throw DistributedError("distributed: " + std::string(what) + " failed on rank " + std::to_string(options_.rank) +
                             " of " + std::to_string(options_.worldSize) +
                             " (another rank died, stopped or did not answer within " +
                             std::to_string(options_.timeout.count()) + " ms): " + Reason(e));
    }
  }

  GroupOptions options_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::Backend> backend_;
};

c10::intrusive_ptr<c10d::Backend> MakeBackend(const GroupOptions& o, const c10::intrusive_ptr<c10d::Store>& store) {
  if (o.backend == "gloo") {
    auto opts = c10d::ProcessGroupGloo::Options::create(o.timeout);
    // loopback stays loopback; another address: the interface the hostname resolves to
    // (GLOO_SOCKET_IFNAME is not read here, see the README)
    const bool local = o.masterAddr == "127.0.0.1" || o.masterAddr == "localhost";
    opts->devices.push_back(local ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                  : c10d::ProcessGroupGloo::createDefaultDevice());
    return c10::make_intrusive<c10d::ProcessGroupGloo>(store, o.rank, o.worldSize, opts);
  }
#ifdef SD_WITH_NCCL
  if (o.backend == "nccl") {
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = o.timeout;
    return c10::make_intrusive<c10d::ProcessGroupNCCL>(store, o.rank, o.worldSize, opts);
  }
#endif
  throw std::invalid_argument("distributed.init: backend '" + o.backend + "' is not in this build");
}

#endif  // SD_WITH_DISTRIBUTED

}  // namespace

bool Compiled(const std::string& backend) {
#ifdef SD_WITH_DISTRIBUTED
  if (backend == "gloo") return true;
#ifdef SD_WITH_NCCL
  if (backend == "nccl") return true;
#endif
#endif
  return false;
}

std::shared_ptr<Group> Create(const GroupOptions& o) {
#ifdef SD_WITH_DISTRIBUTED
  if (!Compiled(o.backend))
    throw std::invalid_argument("distributed.init: backend '" + o.backend + "' is not in this build");
  c10::intrusive_ptr<c10d::Store> store;
  try {
    c10d::TCPStoreOptions so;
    so.port = o.masterPort;
    so.isServer = o.rank == 0;
    so.numWorkers = o.worldSize;
    so.waitWorkers = true;
    so.timeout = o.timeout;
    store = c10::make_intrusive<c10d::TCPStore>(o.masterAddr, so);
  } catch (const std::exception& e) {
    throw DistributedError("distributed.init: rank " + std::to_string(o.rank) + " of " + std::to_string(o.worldSize) +
                           " could not meet the others at " + o.masterAddr + ":" + std::to_string(o.masterPort) +
                           " within " + std::to_string(o.timeout.count()) +
                           " ms (were all ranks started, and is the port free?): " + Reason(e));
  }
  try {
    return std::make_shared<C10dGroup>(o, store, MakeBackend(o, store));
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw DistributedError("distributed.init: rank " + std::to_string(o.rank) + " could not connect the " + o.backend +
                           " process group: " + Reason(e));
  }
#else
  (void)o;
  throw DistributedError(
      "distributed.init: this build of slice-distill has no distributed support (the gloo headers were not found at "
      "build "
      "time: install libgloo-dev, e.g. apt-get install libgloo-dev, and rebuild)");
#endif
}

std::shared_ptr<Group> Current() {
  std::lock_guard<std::mutex> lock(current_mutex);
  return current;
}

void SetCurrent(std::shared_ptr<Group> group) {
  std::lock_guard<std::mutex> lock(current_mutex);
  current = std::move(group);
}

}  // namespace sd::dist
