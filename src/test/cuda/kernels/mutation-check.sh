#!/usr/bin/env bash
# Mutation check for the kernel tests: applies each mutation below to a temporary copy of continuum.cu, builds the
# CPU-shim kernel tests against that copy (g++, ASan + UBSan, as CudaKernelShimTest does), runs them, and reports
# CAUGHT (the tests failed: sanitizer report or a FAIL line) or MISSED (they passed: the tests have a hole).
#   1. oob-read:        the row guard of the float GEMV removed: the warps of the last block read past W's end
#   2. no-syncthreads:  the barrier before paged attention's cross-warp merge removed: warp 0 merges partials
#                       the other warps have not written yet
# Usage: src/test/cuda/kernels/mutation-check.sh      (exit status: number of MISSED mutations)
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
cuda_home=${CUDA_HOME:-/usr/local/cuda}
cxx=${CXX:-g++}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mutate() {   # mutate NAME FROM TO: copy the tree's sources with FROM (exactly once in continuum.cu) replaced by TO
    local name=$1 from=$2 to=$3 dir="$tmp/$1"
    mkdir -p "$dir/src/main/cuda" "$dir/src/test/cuda"
    cp -r "$root/src/test/cuda/shim" "$root/src/test/cuda/kernels" "$dir/src/test/cuda/"
    FROM="$from" TO="$to" python3 - "$root/src/main/cuda/continuum.cu" "$dir/src/main/cuda/continuum.cu" <<'PY'
import os, sys
src = open(sys.argv[1]).read()
n = src.count(os.environ["FROM"])
if n != 1:
    sys.exit(f"pattern found {n} times, expected once")
open(sys.argv[2], "w").write(src.replace(os.environ["FROM"], os.environ["TO"]))
PY
}

check() {    # check NAME: build and run the mutated tests, print the verdict
    local name=$1 dir="$tmp/$1"
    if ! "$cxx" -std=c++20 -O1 -g -ffp-contract=off -fsanitize=address,undefined -fno-sanitize-recover=undefined \
            -DCONTINUUM_CPU_SHIM -I"$dir/src/test/cuda/shim" -I"$cuda_home/include" \
            -o "$dir/kernel_tests" "$dir/src/test/cuda/kernels/kernel_tests.cpp" -lpthread >"$dir/build.log" 2>&1; then
        echo "$name: BUILD FAILED (not a verdict)"; sed -n 1,5p "$dir/build.log"; return 1
    fi
    timeout 600 "$dir/kernel_tests" >"$dir/run.log" 2>&1
    local rc=$?
    local evidence
    evidence=$(grep -m1 -E 'ERROR: AddressSanitizer|runtime error|^FAIL ' "$dir/run.log" || true)
    if [[ $rc -ne 0 ]]; then
        echo "$name: CAUGHT (exit $rc) ${evidence:0:200}"
        return 0
    fi
    echo "$name: MISSED (the kernel tests passed with the mutation)"
    return 1
}

missed=0
mutate oob-read "    if (row >= rows) return;
    float acc[N];
#pragma unroll
    for (int t = 0; t < N; t++) acc[t] = 0.f;
    const int nchunks" "    float acc[N];
#pragma unroll
    for (int t = 0; t < N; t++) acc[t] = 0.f;
    const int nchunks" || { echo "oob-read: NOT APPLIED"; missed=$((missed + 1)); }
check oob-read || missed=$((missed + 1))

mutate no-syncthreads "    __syncthreads();   // all warps' partial softmax states are in shared memory before the merge" "" \
    || { echo "no-syncthreads: NOT APPLIED"; missed=$((missed + 1)); }
check no-syncthreads || missed=$((missed + 1))

exit $missed
