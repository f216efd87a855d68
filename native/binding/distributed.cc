// distributed.*: the process group's N-API side. Rendezvous runs on a libuv thread;
// collectives run on the compute thread, in order with the training steps, so every rank
// issues them in the same sequence.
#include <ATen/ATen.h>

#include <functional>
#include <memory>

#include "binding/compute_thread.h"
#include "binding/convert.h"
#include "binding/errors.h"
#include "binding/exports.h"
#include "binding/module.h"
#include "binding/promise_worker.h"
#include "distributed/group.h"
#include "train/flat_sync.h"

namespace sd {
namespace {

Napi::Value Undefined(Napi::Env env) { return env.Undefined(); }

std::shared_ptr<dist::Group> Required(Napi::Env env, const char* what) {
  auto group = dist::Current();
  if (!group) ThrowTypeError(env, std::string(what) + ": no process group; call distributed.init first");
  return group;
}

// distributedInit({backend, rank, worldSize, masterAddr, masterPort, timeoutMs}) -> Promise<void>
// (the defaults live in TS; every key is required here)
Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) ThrowTypeError(env, "options: expected an object");
  if (dist::Current())
    ThrowTypeError(env, "distributed.init: a process group exists already (call distributed.destroy first)");
  Napi::Object o = info[0].As<Napi::Object>();
  dist::GroupOptions opts;
  opts.backend = ToString(o.Get("backend"), "backend");
  opts.rank = static_cast<int>(ToInt(o.Get("rank"), "rank"));
  opts.worldSize = static_cast<int>(ToInt(o.Get("worldSize"), "worldSize"));
  opts.masterAddr = ToString(o.Get("masterAddr"), "masterAddr");
  const int64_t port = ToInt(o.Get("masterPort"), "masterPort");
  const int64_t timeout = ToInt(o.Get("timeoutMs"), "timeoutMs");
  if (opts.worldSize < 1) ThrowRangeError(env, "worldSize: expected an integer >= 1");
  if (opts.rank < 0 || opts.rank >= opts.worldSize) ThrowRangeError(env, "rank: expected 0 <= rank < worldSize");
  if (port < 1 || port > 65535) ThrowRangeError(env, "masterPort: expected 1..65535");
  if (timeout < 1) ThrowRangeError(env, "timeoutMs: expected a positive number of milliseconds");
  opts.masterPort = static_cast<uint16_t>(port);
  opts.timeout = std::chrono::milliseconds(timeout);
  auto made = std::make_shared<std::shared_ptr<dist::Group>>();
  // the rendezvous waits on the network: a libuv thread, not the compute thread
  auto* worker = new PromiseWorker(
      env, [=] { *made = dist::Create(opts); },
      [=](Napi::Env e) {
        dist::SetCurrent(*made);
        return e.Undefined();
      },
      nullptr, false);
  return Queue(worker);
}

Napi::Value Destroy(const Napi::CallbackInfo& info) {
  dist::SetCurrent(nullptr);
  return info.Env().Undefined();
}

// {rank, worldSize, backend, timeoutMs} or null
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto group = dist::Current();
  if (!group) return env.Null();
  Napi::Object out = Napi::Object::New(env);
  out.Set("rank", group->rank());
  out.Set("worldSize", group->size());
  out.Set("backend", group->backend());
  out.Set("timeoutMs", static_cast<double>(group->timeout().count()));
  return out;
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  auto group = Required(info.Env(), "distributed.barrier");
  return Queue(new PromiseWorker(
      info.Env(), [=] { group->Barrier("the barrier"); }, Undefined, nullptr, true));
}

// distributedAllReduce(numbers) -> Promise<number[]>: the element-wise sums over the ranks
// (float64), for agreeing on early stop, abort or metrics.
Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto group = Required(env, "distributed.allReduce");
  if (!info[0].IsArray()) ThrowTypeError(env, "values: expected an array of numbers");
  Napi::Array a = info[0].As<Napi::Array>();
  auto values = std::make_shared<std::vector<double>>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value v = a.Get(i);
    if (!v.IsNumber()) ThrowTypeError(env, "values[" + std::to_string(i) + "]: expected a number");
    values->push_back(v.As<Napi::Number>().DoubleValue());
  }
  auto* worker = new PromiseWorker(
      env,
      [=] {
        if (values->empty()) return;
        at::Tensor t = at::tensor(*values, at::kDouble);
        if (group->backend() == "nccl") t = t.cuda();
        std::vector<at::Tensor> one{t};
        group->AllReduceSum(one, "the all-reduce of values");
        t = one[0].cpu();
        auto sums = t.accessor<double, 1>();
        for (size_t i = 0; i < values->size(); ++i) (*values)[i] = sums[static_cast<int64_t>(i)];
      },
      [=](Napi::Env e) {
        Napi::Array out = Napi::Array::New(e, values->size());
        for (size_t i = 0; i < values->size(); ++i) out.Set(static_cast<uint32_t>(i), (*values)[i]);
        return out;
      },
      nullptr, true);
  return Queue(worker);
}

// distributedBroadcastModule(module) -> Promise<void>: rank 0's parameters and buffers on
// every rank (e.g. after rank 0 alone loaded weights).
Napi::Value BroadcastModule(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto group = Required(env, "distributed.broadcastModule");
  ModuleHandle* handle = ModuleHandle::Get(info[0], "module");
  handle->CheckIdle(env);
  auto module = handle->module();
  auto* worker = new PromiseWorker(
      env,
      [=] {
        std::vector<at::Tensor> state;
        for (const auto& p : module->parameters(true)) state.push_back(p);
        for (const auto& b : module->buffers(true)) state.push_back(b);
        train::BroadcastFromRankZero(*group, state, "the module broadcast");
      },
      Undefined, nullptr, true);
  worker->Hold(info[0]);
  return Queue(worker);
}

Napi::Value Compiled(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (const char* b : {"gloo", "nccl"}) {
    if (dist::Compiled(b)) out.Set(n++, b);
  }
  return out;
}

}  // namespace

void RegisterDistributed(Napi::Env env, Napi::Object exports) {
  Export<Init>(env, exports, "distributedInit");
  Export<Destroy>(env, exports, "distributedDestroy");
  Export<Info>(env, exports, "distributedInfo");
  Export<Barrier>(env, exports, "distributedBarrier");
  Export<AllReduce>(env, exports, "distributedAllReduce");
  Export<BroadcastModule>(env, exports, "distributedBroadcastModule");
  Export<Compiled>(env, exports, "distributedBackends");
}

}  // namespace sd
