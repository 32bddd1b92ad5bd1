// Threads, and the rule that keeps results independent of them.
//
// Every parallel loop in fastdnn runs over chunks that the caller derives from
// the shapes alone. A chunk is always computed whole by one thread, so the
// number of threads decides only who computes a chunk, never how: the same
// inputs give bitwise the same outputs on 1 thread or on 8.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

namespace fastdnn {

int num_threads();             // threads fastdnn may use
void set_num_threads(int n);   // n >= 1

// Elementwise work below this many elements runs on the calling thread: a
// parallel region costs microseconds, as much as the work itself.
constexpr int64_t kElementChunk = 1 << 15;

// Runs call(context, c) for every c in [0, chunks) on the calling thread and
// the pool's workers (parallel.cpp). Chunks are claimed one at a time, and the
// caller waits only for chunks a worker has already started: a worker that the
// OS has descheduled (another busy process) never holds the caller up, so a
// loaded machine degrades to one thread's speed instead of collapsing.
void run_chunks(int64_t chunks, void (*call)(void* context, int64_t chunk), void* context);

// Diagnostics (fastdnn._core._pool_counters, tests and benchmarks), counted since the start.
struct PoolCounters {
  int64_t jobs = 0;               // jobs shared out with the workers
  int64_t chunks_by_workers = 0;  // chunks a worker ran (the rest ran on the caller)
  int64_t back_offs = 0;          // slow waits that sent the caller to run alone for a while
};
PoolCounters pool_counters();
// Test hook: held workers still wake up but claim no chunk, as if the OS never
// scheduled them; every job must then finish on the calling thread.
void hold_workers(bool held);

// body(chunk) for chunk in [0, chunks).
template <class Body>
void parallel_for(int64_t chunks, Body body) {
  if (chunks <= 1 || num_threads() <= 1) {
    for (int64_t c = 0; c < chunks; ++c) body(c);
    return;
  }
  run_chunks(chunks, [](void* b, int64_t c) { (*static_cast<Body*>(b))(c); }, &body);
}

// Memory-bound loops over fewer elements than this stay on the calling thread
// even when they span several chunks: the data was just written there, in its
// cache, and a second core fetching half of it was measured slower (SGD over
// 275k parameters: 65 us on one thread, 86 us on two).
constexpr int64_t kMinParallelElements = int64_t(1) << 19;

// body(chunk) for chunk in [0, chunks) of a loop over `elements` elements.
template <class Body>
void parallel_over_elements(int64_t chunks, int64_t elements, Body body) {
  if (elements < kMinParallelElements) {
    for (int64_t c = 0; c < chunks; ++c) body(c);
  } else {
    parallel_for(chunks, body);
  }
}

// body(begin, end) over [0, n) in fixed chunks of kElementChunk elements.
template <class Body>
void parallel_elementwise(int64_t n, Body body) {
  const int64_t chunks = (n + kElementChunk - 1) / kElementChunk;
  parallel_over_elements(chunks, n, [&](int64_t c) {
    body(c * kElementChunk, std::min(n, (c + 1) * kElementChunk));
  });
}

// body(row_begin, row_end) over the rows of a (rows, cols) buffer, in fixed
// chunks of whole rows of about kElementChunk elements each.
template <class Body>
void parallel_rows(int64_t rows, int64_t cols, Body body) {
  const int64_t per_chunk = std::max<int64_t>(1, kElementChunk / std::max<int64_t>(1, cols));
  parallel_over_elements((rows + per_chunk - 1) / per_chunk, rows * cols, [&](int64_t c) {
    body(c * per_chunk, std::min(rows, (c + 1) * per_chunk));
  });
}

// body(col_begin, col_end) over blocks of kColumnBlock columns of a (rows, cols)
// buffer: the shape of reductions over the batch (a column's rows are always
// added in order by one thread).
constexpr int64_t kColumnBlock = 256;
template <class Body>
void parallel_column_blocks(int64_t rows, int64_t cols, Body body) {
  const int64_t blocks = (cols + kColumnBlock - 1) / kColumnBlock;
  parallel_over_elements(blocks, rows * cols, [&](int64_t b) {
    body(b * kColumnBlock, std::min(cols, (b + 1) * kColumnBlock));
  });
}

// Σ term(i) over [0, n), in fixed chunks of `per_chunk` items whose partial
// sums are added in chunk order: the total does not depend on the thread count.
template <class Term>
double deterministic_sum(int64_t n, int64_t per_chunk, Term term) {
  const int64_t chunks = (n + per_chunk - 1) / per_chunk;
  auto chunk_sum = [&](int64_t c) {
    double sum = 0.0;
    for (int64_t i = c * per_chunk; i < std::min(n, (c + 1) * per_chunk); ++i) sum += term(i);
    return sum;
  };
  if (chunks <= 1) return chunks == 1 ? chunk_sum(0) : 0.0;
  std::vector<double> partial(chunks, 0.0);
  parallel_for(chunks, [&](int64_t c) { partial[c] = chunk_sum(c); });
  double total = 0.0;
  for (double s : partial) total += s;
  return total;
}

}  // namespace fastdnn
