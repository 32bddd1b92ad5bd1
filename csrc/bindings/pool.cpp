// fastdnn._core's private probes of the thread pool: its counters, a hook that
// keeps the workers from running (as a busy machine would), and C++ timing loops
// for benchmarks/thread_handoff.py (a Python loop would add microseconds per call).
#include <chrono>
#include <thread>
#include <vector>

#include "bindings/checks.h"
#include "kernels/matmul.h"
#include "kernels/parallel.h"

namespace fastdnn::bind {

namespace {

template <class Body>
double seconds_per_call(int64_t repeats, Body body) {
  body();  // warm: workers started, buffers touched
  const auto start = std::chrono::steady_clock::now();
  for (int64_t r = 0; r < repeats; ++r) body();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / double(repeats);
}

}  // namespace

void bind_pool(py::module_& m) {
  using py::arg;
  m.def("_pool_counters", [] {
    const PoolCounters c = pool_counters();
    py::dict d;
    d["jobs"] = c.jobs;
    d["chunks_by_workers"] = c.chunks_by_workers;
    d["back_offs"] = c.back_offs;
    return d;
  }, "Jobs the pool shared out, chunks its workers ran, and back-offs to one thread, since the start.");
  m.def("_hold_workers", [](bool held) { hold_workers(held); }, arg("held"),
        "Test hook: held workers wake but claim no chunk, like workers the OS never schedules.");
  m.def("_time_pool_jobs", [](py::handle chunks, py::handle chunk_ns, py::handle repeats) {
    const int64_t c = integer_in(chunks, "chunks", 1, 1 << 20), r = integer_in(repeats, "repeats", 1, 1 << 30);
    const auto busy = std::chrono::nanoseconds(integer_in(chunk_ns, "chunk_ns", 0, 1000000000));
    py::gil_scoped_release release;
    return seconds_per_call(r, [&] {
      parallel_for(c, [&](int64_t) {  // each chunk busy for chunk_ns, as a product's tile would be
        const auto until = std::chrono::steady_clock::now() + busy;
        while (std::chrono::steady_clock::now() < until) {
        }
      });
    });
  }, arg("chunks"), arg("chunk_ns"), arg("repeats"), "Seconds per parallel_for of `chunks` chunks that each keep a thread busy for chunk_ns.");
  m.def("_pool_job_latencies", [](py::handle chunk_ns, py::handle jobs) {
    const auto busy = std::chrono::nanoseconds(integer_in(chunk_ns, "chunk_ns", 0, 1000000000));
    const int64_t n = integer_in(jobs, "jobs", 1, 1 << 24);
    std::vector<int64_t> job_ns(n), worker_start_ns(n, -1);
    {
      py::gil_scoped_release release;
      using Clock = std::chrono::steady_clock;
      const auto caller = std::this_thread::get_id();
      for (int64_t j = 0; j < n; ++j) {
        const auto start = Clock::now();
        parallel_for(2, [&](int64_t) {
          const auto now = Clock::now();
          if (std::this_thread::get_id() != caller) worker_start_ns[j] = (now - start).count();
          while (Clock::now() < now + busy) {
          }
        });
        job_ns[j] = (Clock::now() - start).count();
      }
    }
    return py::make_tuple(py::array_t<int64_t>(n, job_ns.data()), py::array_t<int64_t>(n, worker_start_ns.data()));
  }, arg("chunk_ns"), arg("jobs"),
     "Per job of 2 chunks busy for chunk_ns each: its nanoseconds, and when a worker started a chunk (-1: none did).");
  m.def("_time_matmul", [](py::handle m_, py::handle n_, py::handle k_, py::handle repeats) {
    const int64_t M = integer_in(m_, "m", 1, 1 << 14), N = integer_in(n_, "n", 1, 1 << 14);
    const int64_t K = integer_in(k_, "k", 1, 1 << 14), r = integer_in(repeats, "repeats", 1, 1 << 30);
    std::vector<float> A(M * K, 0.5f), B(K * N, 0.25f), C(M * N);
    py::gil_scoped_release release;
    return seconds_per_call(r, [&] { matmul(C.data(), A.data(), B.data(), M, N, K, false, false); });
  }, arg("m"), arg("n"), arg("k"), arg("repeats"), "Seconds per (m,k)·(k,n) product through matmul's tiling.");
}

}  // namespace fastdnn::bind
