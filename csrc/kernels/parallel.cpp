#include "kernels/parallel.h"

#include "kernels/float_mode.h"

#include <sched.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace fastdnn {

namespace {

// OMP_NUM_THREADS when set (the variable every numeric library honours),
// otherwise the cores this process may run on.
int default_threads() {
  if (const char* env = std::getenv("OMP_NUM_THREADS")) {
    const int n = std::atoi(env);  // "4" or "4,2": the first level
    if (n >= 1) return n;
  }
  cpu_set_t cpus;
  if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0) return std::max(1, CPU_COUNT(&cpus));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

static std::atomic<int> g_num_threads{default_threads()};

int num_threads() { return g_num_threads.load(std::memory_order_relaxed); }

void set_num_threads(int n) { g_num_threads.store(std::max(1, n), std::memory_order_relaxed); }

namespace {

std::atomic<int64_t> g_jobs{0}, g_chunks_by_workers{0}, g_back_offs{0};
std::atomic<bool> g_workers_held{false};

// Why not OpenMP (`#pragma omp parallel for`): an OpenMP region ends in a barrier that
// waits for every thread of the team. When another process keeps one of two
// cores busy, the OS deschedules one of our threads for a whole time slice
// (milliseconds) and every region waits for it: a step that takes 0.6 ms on one
// thread took 10 ms on two. Here the caller works through the chunks itself and
// waits only for chunks a worker has actually claimed.
//
// The hand-off has to cost well under a microsecond: at batch 32 a 100x100
// product takes a few. So a job is published by one atomic store, which idle
// workers watch by spinning for kSpin after their last job (the products and
// elementwise loops of a step come microseconds apart); only a worker that has
// slept past that is woken through the mutex and condition variable.
//
// `state` packs the job's generation (high 32 bits) and the number of chunks
// not yet claimed (low 32 bits; chunk `remaining - 1` is claimed next). A
// compare-and-swap claims a chunk of the job the worker saw, or of none: the
// claim succeeds only while that job is running, and the job cannot finish
// before its claimed chunks are done, so `call` and `context` stay valid.
class Pool {
 public:
  void run(int64_t chunks, void (*call)(void*, int64_t), void* context) {
    const int helpers = std::min<int64_t>(num_threads(), chunks) - 1;
    std::unique_lock<std::mutex> busy(run_mutex_, std::defer_lock);
    if (helpers <= 0 || in_job_ || chunks >= (int64_t(1) << 31) || !busy.try_lock() || backing_off()) {
      // One thread: nested calls, another network running at the same time,
      // or a machine so busy that waiting for a worker costs more than it saves.
      for (int64_t c = 0; c < chunks; ++c) call(context, c);
      return;
    }
    start_workers(helpers);
    call_ = call;
    context_ = context;
    float_mode_ = float_mode();
    active_helpers_.store(helpers, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const uint64_t generation = (state_.load(std::memory_order_relaxed) >> 32) + 1;
    // Both seq_cst, against the same pair in wait_for_job: either a worker going
    // to sleep sees this job, or this thread sees it going to sleep and wakes it.
    state_.store(generation << 32 | uint64_t(chunks), std::memory_order_seq_cst);
    if (sleepers_.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard<std::mutex> lock(wake_mutex_); }  // a sleeper is inside wait(), not before it
      wake_.notify_all();
    }
    g_jobs.fetch_add(1, std::memory_order_relaxed);
    in_job_ = true;
    const auto start = Clock::now();
    const int64_t mine = work(generation);
    in_job_ = false;
    const auto finished = Clock::now();
    while (done_.load(std::memory_order_acquire) < chunks) cpu_relax();
    const auto now = Clock::now();
    // Two signs that the workers are not getting a core (another busy process):
    // waiting much longer than a chunk takes for a worker that lost its core
    // mid-chunk, or workers missing job after job that they would catch while
    // spinning. Either sends this thread to run alone for a while (the workers
    // then stop spinning and sleep), then try the workers again. The pause
    // doubles while the signs keep coming and starts over after a good job.
    const bool slow_wait = now - finished > kSlowWait + (finished - start) * 4 / std::max<int64_t>(mine, 1);
    // (A job too short for even a spinning worker to reach is no sign.)
    if (mine < chunks) {
      missed_in_a_row_ = 0;
    } else if (finished - start > kMissWindow) {
      ++missed_in_a_row_;
    }
    if (slow_wait || missed_in_a_row_ >= kMissesBeforeBackOff) {
      backoff_ = std::min(kMaxBackoff, backoff_ == Clock::duration::zero() ? kMinBackoff : 2 * backoff_);
      serial_until_ = now + backoff_;
      missed_in_a_row_ = 0;
      g_back_offs.fetch_add(1, std::memory_order_relaxed);
    } else if (mine < chunks) {
      backoff_ = Clock::duration::zero();
    }
  }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr auto kSlowWait = std::chrono::microseconds(50);
  static constexpr Clock::duration kMinBackoff = std::chrono::milliseconds(20);
  static constexpr Clock::duration kMaxBackoff = std::chrono::seconds(1);
  // A worker spins this long after a job before it sleeps: longer than the
  // gaps between a step's parallel loops, short enough that an idle pool costs nothing.
  static constexpr Clock::duration kSpin = std::chrono::microseconds(100);
  // A spinning worker claims its chunk within a fraction of a microsecond, so
  // this many jobs in a row of at least kMissWindow that ran wholly on the
  // caller mean it is not getting a core.
  static constexpr int kMissesBeforeBackOff = 16;
  static constexpr auto kMissWindow = std::chrono::microseconds(4);

  bool backing_off() const { return Clock::now() < serial_until_; }

  static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  // Claims and runs chunks of job `generation` until none is left; returns how many it ran.
  int64_t work(uint64_t generation) {
    int64_t ran = 0;
    uint64_t s = state_.load(std::memory_order_acquire);
    while ((s >> 32) == generation && (s & 0xFFFFFFFFu) != 0) {
      if (state_.compare_exchange_weak(s, s - 1, std::memory_order_acq_rel)) {
        // The job's fields are read only after a claim: until its chunks are
        // done the caller cannot publish the next job over them.
        if (ran == 0 && float_mode() != float_mode_) set_float_mode(float_mode_);  // the caller's mode
        call_(context_, int64_t(s & 0xFFFFFFFFu) - 1);
        done_.fetch_add(1, std::memory_order_release);
        ++ran;
        s = state_.load(std::memory_order_acquire);
      }
    }
    return ran;
  }

  void start_workers(int helpers) {
    if (pid_ != getpid()) {  // a forked child has no workers: start its own
      workers_ = 0;
      sleepers_.store(0, std::memory_order_relaxed);  // the parent's, which it must not wait to wake
      pid_ = getpid();
    }
    while (workers_ < helpers) {
      std::thread(&Pool::worker_loop, this, workers_++).detach();
    }
  }

  // The generation of the next job after `seen`: spins for kSpin (a pause per
  // load, and the clock read only every 64 loads), then sleeps until woken.
  // (Spinning is bounded by time, not by a count of pauses: a pause takes
  // ~140 cycles on Skylake but a few on AMD Zen.)
  uint64_t wait_for_job(uint64_t seen) {
    const auto deadline = Clock::now() + kSpin;
    do {
      for (int i = 0; i < 64; ++i) {
        const uint64_t generation = state_.load(std::memory_order_acquire) >> 32;
        if (generation != seen) return generation;
        cpu_relax();
      }
    } while (Clock::now() < deadline);
    std::unique_lock<std::mutex> lock(wake_mutex_);
    sleepers_.fetch_add(1, std::memory_order_seq_cst);
    wake_.wait(lock, [&] { return (state_.load(std::memory_order_seq_cst) >> 32) != seen; });
    sleepers_.fetch_sub(1, std::memory_order_relaxed);
    return state_.load(std::memory_order_acquire) >> 32;
  }

  void worker_loop(int index) {
    in_job_ = true;  // a chunk that calls parallel_for runs it on this thread
    uint64_t seen = state_.load(std::memory_order_acquire) >> 32;
    for (;;) {
      seen = wait_for_job(seen);
      // active_helpers_ is read only while the job can still be running: if it
      // has already ended, the claim in work() fails whatever this thread read.
      if (!g_workers_held.load(std::memory_order_relaxed) && index < active_helpers_.load(std::memory_order_relaxed)) {
        g_chunks_by_workers.fetch_add(work(seen), std::memory_order_relaxed);
      }
    }
  }

  // What workers poll, and the job it publishes, share one cache line; the
  // counter of finished chunks, written by every thread, has its own.
  alignas(64) std::atomic<uint64_t> state_{0};
  void (*call_)(void*, int64_t) = nullptr;
  void* context_ = nullptr;
  unsigned float_mode_ = 0;
  std::atomic<int> active_helpers_{0};
  alignas(64) std::atomic<int64_t> done_{0};
  alignas(64) std::atomic<int> sleepers_{0};
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::mutex run_mutex_;  // one job at a time; others run on their own thread
  int workers_ = 0;
  // Guarded by run_mutex_:
  Clock::time_point serial_until_{};
  Clock::duration backoff_{};
  int missed_in_a_row_ = 0;
  pid_t pid_ = getpid();
  static thread_local bool in_job_;
};

thread_local bool Pool::in_job_ = false;

}  // namespace

PoolCounters pool_counters() {
  PoolCounters c;
  c.jobs = g_jobs.load(std::memory_order_relaxed);
  c.chunks_by_workers = g_chunks_by_workers.load(std::memory_order_relaxed);
  c.back_offs = g_back_offs.load(std::memory_order_relaxed);
  return c;
}

void hold_workers(bool held) { g_workers_held.store(held, std::memory_order_relaxed); }

void run_chunks(int64_t chunks, void (*call)(void*, int64_t), void* context) {
  static Pool* pool = new Pool();  // never destroyed: workers may outlive static destruction
  pool->run(chunks, call, context);
}

}  // namespace fastdnn
