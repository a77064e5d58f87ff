#!/usr/bin/env bash
# Builds the CUDA kernels of continuum.cu into the resources the Java runner loads:
#   src/main/resources/dev/continuum/cuda/continuum.fatbin  SASS sm_90 (H100/H200) + PTX compute_80 (any newer GPU
#                                                           JIT-compiles it once at module load)
#   src/main/resources/dev/continuum/cuda/continuum.ptx     PTX compute_80 alone (the build gate reads its .entry set)
# nvcc's output is byte-for-byte reproducible for the same source and toolkit, so the committed files are checked.
#
# Usage:
#   build.sh                       rebuild the committed resources
#   build.sh --check               rebuild into a temporary directory; fail naming each committed file that differs
#   build.sh device-tests OUTDIR   build the kernel tests (src/test/cuda/kernels) with nvcc into OUTDIR/kernel_tests,
#                                  an executable for a machine with a real GPU (sm_90 SASS + compute_80 PTX)
# Environment: NVCC (default: nvcc on PATH, else /usr/local/cuda/bin/nvcc).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../../.." && pwd)
res="src/main/resources/dev/continuum/cuda"
src="src/main/cuda/continuum.cu"

nvcc_bin=${NVCC:-}
if [[ -z "$nvcc_bin" ]]; then
    if command -v nvcc >/dev/null 2>&1; then nvcc_bin=$(command -v nvcc)
    elif [[ -x /usr/local/cuda/bin/nvcc ]]; then nvcc_bin=/usr/local/cuda/bin/nvcc
    else echo "build.sh: nvcc not found (set NVCC or put the CUDA toolkit's bin on PATH)" >&2; exit 2
    fi
fi

# Always compile the same relative source path from the repository root, so nothing in the output depends on
# where the checkout or the output directory is.
build_into() {
    local out=$1
    mkdir -p "$out"
    (cd "$root" && "$nvcc_bin" -fatbin -gencode arch=compute_90,code=sm_90 -gencode arch=compute_80,code=compute_80 \
        -o "$out/continuum.fatbin" "$src")
    (cd "$root" && "$nvcc_bin" -ptx -arch=compute_80 -o "$out/continuum.ptx" "$src")
}

case "${1:-}" in
    "")
        build_into "$root/$res"
        echo "built $res/continuum.fatbin and $res/continuum.ptx"
        ;;
    --check)
        tmp=$(mktemp -d)
        trap 'rm -rf "$tmp"' EXIT
        build_into "$tmp"
        status=0
        for f in continuum.fatbin continuum.ptx; do
            if [[ ! -f "$root/$res/$f" ]]; then
                echo "build.sh --check: $res/$f is missing (run src/main/cuda/build.sh)" >&2; status=1
            elif ! cmp -s "$tmp/$f" "$root/$res/$f"; then
                echo "build.sh --check: $res/$f differs from a rebuild of $src (run src/main/cuda/build.sh)" >&2; status=1
            fi
        done
        [[ $status -eq 0 ]] && echo "build.sh --check: committed continuum.fatbin and continuum.ptx equal a rebuild"
        exit $status
        ;;
    device-tests)
        out=${2:?usage: build.sh device-tests OUTDIR}
        mkdir -p "$out"
        out=$(cd "$out" && pwd)
        (cd "$root" && "$nvcc_bin" -x cu -std=c++20 -O2 -lineinfo \
            -gencode arch=compute_90,code=sm_90 -gencode arch=compute_80,code=compute_80 \
            -o "$out/kernel_tests" src/test/cuda/kernels/kernel_tests.cpp)
        echo "built $out/kernel_tests (run it on a machine with a GPU; exit status = number of failed checks)"
        ;;
    *)
        echo "usage: build.sh [--check | device-tests OUTDIR]" >&2; exit 2
        ;;
esac
