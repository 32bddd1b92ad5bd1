#include "kernels/parallel.h"

#include <omp.h>

#include <atomic>

namespace fastdnn {

// Starts at OpenMP's default, which honours OMP_NUM_THREADS and otherwise
// counts the machine's cores.
static std::atomic<int> g_num_threads{omp_get_max_threads()};

int num_threads() { return g_num_threads.load(std::memory_order_relaxed); }

void set_num_threads(int n) { g_num_threads.store(std::max(1, n), std::memory_order_relaxed); }

}  // namespace fastdnn
