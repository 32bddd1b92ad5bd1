#!/usr/bin/env bash
# Build fastdnn's extension with sanitizers and run the tests that reach C++
# under them. Any report fails the run.
#
#   tools/sanitize.sh            # AddressSanitizer + UndefinedBehaviorSanitizer
#   tools/sanitize.sh thread     # ThreadSanitizer (the thread pool, concurrent calls)
#   tools/sanitize.sh address tests/test_dense.py   # chosen tests
#
# Python itself is not built with the sanitizers, so their runtime is preloaded.
# The extension is built in its own virtual environment (.venv-sanitize-<kind>),
# leaving any other install alone.
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-address}"
shift || true
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  tests=(tests/test_dense.py tests/test_matmul.py tests/test_batchnorm.py tests/test_dropout.py
         tests/test_activations.py tests/test_losses.py tests/test_optimizers.py tests/test_regularization.py
         tests/test_network_gradients.py tests/test_network_training.py tests/test_network_threads.py
         tests/test_network_bad_input.py tests/test_fuzz_kernels.py tests/test_fuzz_network.py
         tests/test_losses_extra.py tests/test_sample_weights.py tests/test_layer_kernels.py
         tests/test_layers_engine.py tests/test_constraints.py tests/test_metrics_in_fit.py
         tests/test_training_mode_call.py tests/test_merge_kernels.py tests/test_network_dag.py
         tests/test_network_dag_bad_input.py tests/test_network_shards.py tests/test_network_shard_training.py)
fi
case "$kind" in
  address) runtime=libasan.so ;;
  thread) runtime=libtsan.so ;;
  *) echo "usage: tools/sanitize.sh [address|thread] [tests...]" >&2; exit 2 ;;
esac

venv=".venv-sanitize-$kind"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q scikit-build-core pybind11 cmeel-eigen numpy pytest hypothesis
"$venv/bin/pip" install -q --no-build-isolation \
  -C cmake.define.FASTDNN_SANITIZE="$kind" -C cmake.build-type=RelWithDebInfo \
  -C build-dir="build/sanitize-$kind" .

# libstdc++ too: the sanitizer intercepts C++ exceptions (__cxa_throw), and
# must find the real one when it starts, before Python loads the extension.
preload="$(g++ -print-file-name="$runtime") $(g++ -print-file-name=libstdc++.so)"
# Python's own allocations are never freed at exit: leaks are not what we look for.
# An impossible allocation must fail as in a normal build (a MemoryError test).
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
# NumPy's OpenBLAS threads are not instrumented: TSan would report their writes.
export OPENBLAS_NUM_THREADS=1
# Run from an empty folder so the installed package, not the source tree, is imported.
here="$PWD"
cd "$(mktemp -d)"
# (The alignment tests need NumPy's usual allocator, which the sanitizer replaces.
# -s: a report stops the process at once, before pytest could show captured output.)
LD_PRELOAD="$preload" "$here/$venv/bin/python" -m pytest -q -s -p no:cacheprovider \
  -c "$here/pyproject.toml" --rootdir "$here" -k "not reproducible_across_calls" "${tests[@]/#/$here/}"
