// CPU work runs on one long-lived compute thread, not on whichever libuv worker is free.
// libgomp (LibTorch's OpenMP) keeps a pool of threads for every thread that starts parallel
// regions; once the process holds more of them than there are CPUs (the JS thread's pool plus
// one per libuv worker that ran a step), it cuts its spin-wait to almost nothing, and every
// parallel region then pays a futex sleep and wake-up: small-op students trained 2-3x slower
// than from Python on 2 CPUs. The libuv worker waits here (as it waited for the work before).
#include "binding/compute_thread.h"

#include <ATen/Parallel.h>

#if defined(__linux__)
#include <dlfcn.h>
#endif

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

namespace sd {
namespace {

std::atomic<int> wanted_threads{0};  // 0: whatever ATen gives a new thread

struct Queue {  // never destroyed: the thread outlives static destructors at exit
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::packaged_task<void()>> jobs;
};

void Serve(Queue* q) {
  int applied = 0;
  for (;;) {
    std::unique_lock<std::mutex> lock(q->mutex);
    q->wake.wait(lock, [q] { return !q->jobs.empty(); });
    std::packaged_task<void()> job = std::move(q->jobs.front());
    q->jobs.pop_front();
    lock.unlock();
    int want = wanted_threads.load();
    if (want > 0 && want != applied) {
      at::set_num_threads(want);
      applied = want;
    }
    job();
  }
}

Queue* TheQueue() {
  static Queue* queue = [] {
    auto* q = new Queue();
    std::thread(Serve, q).detach();
    return q;
  }();
  return queue;
}

}  // namespace

void RunOnComputeThread(const std::function<void()>& work) {
  Queue* queue = TheQueue();
  std::packaged_task<void()> task(work);
  std::future<void> done = task.get_future();
  {
    std::lock_guard<std::mutex> lock(queue->mutex);
    queue->jobs.push_back(std::move(task));
  }
  queue->wake.notify_one();
  done.get();
}

void ReleaseCallerOpenMpPool() {
  // omp_pause_resource_all (OpenMP 5.0), looked up at run time: the addon does not link the
  // OpenMP runtime itself, and LibTorch builds without libgomp have no such pools to free
  using PauseAll = int (*)(int kind);
  static const PauseAll pause = []() -> PauseAll {
#if defined(__linux__)
    void* gomp = dlopen("libgomp.so.1", RTLD_LAZY | RTLD_NOLOAD);
    return gomp ? reinterpret_cast<PauseAll>(dlsym(gomp, "omp_pause_resource_all")) : nullptr;
#else
    return nullptr;
#endif
  }();
  constexpr int kPauseSoft = 1;  // omp_pause_soft
  if (pause) pause(kPauseSoft);
}

void SetComputeThreads(int threads) { wanted_threads.store(threads); }

int ComputeThreads() {
  int n = 0;
  RunOnComputeThread([&n] { n = at::get_num_threads(); });
  return n;
}

}  // namespace sd
