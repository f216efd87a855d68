// The one long-lived thread that runs all asynchronous CPU work (see compute_thread.cc).
#pragma once
#include <functional>

namespace sd {

// Runs `work` on the compute thread and blocks the caller until it is done; the work's
// exception is rethrown on the caller's thread.
void RunOnComputeThread(const std::function<void()>& work);

// Frees the calling thread's OpenMP pool, if it has one. Call it on the JS thread as CPU work is
// queued: a sync op with parallel regions leaves a pool there, and with the compute thread's
// pool that is more OpenMP threads than CPUs, where libgomp throttles its spin-wait for every
// pool (async training steps ran 10-20% slower). The next parallel op on the JS thread builds
// the pool again (tens of microseconds). A no-op where the OpenMP runtime has no pause call.
void ReleaseCallerOpenMpPool();

// The intra-op thread count for the compute thread. OpenMP thread counts are per thread, and
// ATen copies the process-wide count into a thread only the first time that thread runs an op,
// so without this a later setNumThreads would never reach the async work.
void SetComputeThreads(int threads);

// The compute thread's intra-op thread count as its next job will see it.
int ComputeThreads();

}  // namespace sd
