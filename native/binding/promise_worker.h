// A Promise settled by work off the JS thread (CPU work on the compute thread), shared by
// the async bindings (async.cc) and the process group's (distributed.cc).
#pragma once
#include <napi.h>

#include <functional>
#include <optional>
#include <vector>

#include "binding/compute_thread.h"
#include "binding/errors.h"

namespace sd {

// Runs `work` on the thread pool (CPU work: on the compute thread); `settle` builds the
// resolved value on the JS thread. A C++ exception in `work` rejects with the same typed
// error a sync call would throw.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, std::function<void()> work, std::function<Napi::Value(Napi::Env)> settle,
                std::function<void()> release, bool cpu = false)
      : Napi::AsyncWorker(env, "slice-distill"),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        settle_(std::move(settle)),
        release_(std::move(release)),
        cpu_(cpu) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }
  bool OnComputeThread() const { return cpu_; }

  // Keeps JS objects (module / optimizer handles) alive until the work is done.
  void Hold(Napi::Value value) {
    if (value.IsObject()) held_.push_back(Napi::Persistent(value.As<Napi::Object>()));
  }

 protected:
  void Execute() override {
    try {
      if (cpu_)
        RunOnComputeThread(work_);
      else
        work_();
    } catch (...) {
      error_ = CaptureCurrentException();
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (release_) release_();
    if (error_) {
      deferred_.Reject(TranslateCapturedError(env, *error_).Value());
      return;
    }
    try {
      deferred_.Resolve(settle_(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      deferred_.Reject(TranslateCurrentException(env).Value());
    }
  }

  void OnError(const Napi::Error& e) override {
    if (release_) release_();
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> work_;
  std::function<Napi::Value(Napi::Env)> settle_;
  std::function<void()> release_;
  std::optional<CapturedError> error_;
  std::vector<Napi::ObjectReference> held_;
  bool cpu_;
};

// Queues the worker (freeing the caller's OpenMP pool for compute-thread work first) and
// returns its Promise.
inline Napi::Value Queue(PromiseWorker* worker) {
  if (worker->OnComputeThread()) ReleaseCallerOpenMpPool();
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

}  // namespace sd
