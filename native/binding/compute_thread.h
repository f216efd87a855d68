// The one long-lived thread that runs all asynchronous CPU work (see compute_thread.cc).
#pragma once
#include <functional>

namespace sd {

// Runs `work` on the compute thread and blocks the caller until it is done; the work's
// exception is rethrown on the caller's thread.
void RunOnComputeThread(const std::function<void()>& work);

// The intra-op thread count for the compute thread. OpenMP thread counts are per thread, and
// ATen copies the process-wide count into a thread only the first time that thread runs an op,
// so without this a later setNumThreads would never reach the async work.
void SetComputeThreads(int threads);

// The compute thread's intra-op thread count as its next job will see it.
int ComputeThreads();

}  // namespace sd
