#!/usr/bin/env bash
# Builds the emulated CUDA driver: OUT_DIR/libcuda.so.1 (SONAME libcuda.so.1) from the kernels in CU_FILE, compiled
# for the CPU with the shim in SHIM_DIR (cuda_cpu_shim.h) and this directory's fiber executor and driver.
#   build.sh OUT_DIR CU_FILE SHIM_DIR
# Cached by a hash of every input (sources, headers next to CU_FILE and in SHIM_DIR, this script, the compiler
# version and flags): a second run with the same inputs only prints the path. Prints the library's path last.
# Environment: CXX (default g++), CUDA_INCLUDE (default /usr/local/cuda/include), EMU_EXTRA_FLAGS (appended).
set -euo pipefail

if [ $# -ne 3 ]; then
    echo "usage: $0 OUT_DIR CU_FILE SHIM_DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$1
cu=$(cd "$(dirname "$2")" && pwd)/$(basename "$2")
shim=$(cd "$3" && pwd)
own_shim=$(cd "$here/../shim" && pwd)
cxx=${CXX:-g++}
cuda_include=${CUDA_INCLUDE:-/usr/local/cuda/include}

[ -f "$cu" ] || { echo "build.sh: no kernel source $cu" >&2; exit 1; }
[ -d "$shim" ] || { echo "build.sh: no shim directory $shim" >&2; exit 1; }
[ -f "$cuda_include/cuda.h" ] || { echo "build.sh: no $cuda_include/cuda.h (set CUDA_INCLUDE)" >&2; exit 1; }
command -v "$cxx" >/dev/null || { echo "build.sh: compiler $cxx not found" >&2; exit 1; }

flags=(-std=c++20 -O2 -fPIC -pthread -fvisibility=hidden -fcf-protection=none -fno-strict-aliasing
       -Wno-unused-function -Wno-unused-variable -Wno-unused-parameter
       -DCONTINUUM_CPU_SHIM -DCONTINUUM_SHIM_FIBERS "-DCONTINUUM_CU=\"$cu\""
       -I"$shim" -I"$own_shim" -I"$cuda_include")
# shellcheck disable=SC2206
flags+=(${EMU_EXTRA_FLAGS:-})

mkdir -p "$out"
lib=$out/libcuda.so.1
stamp=$out/libcuda.so.1.inputs

# Every input: the kernel source and the headers beside it, the shim dir, our own sources, compiler and flags.
hash=$( {
    "$cxx" --version | head -1
    printf '%s\n' "${flags[@]}"
    for f in "$cu" "$(dirname "$cu")"/*.h "$(dirname "$cu")"/*.cuh "$shim"/*.h "$own_shim"/*.h \
             "$here"/*.cpp "$here"/*.h "$here"/build.sh; do
        [ -f "$f" ] && { echo "$f"; cat "$f"; }
    done
} | sha256sum | cut -c1-32)

if [ -f "$lib" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
    echo "$lib"
    exit 0
fi

# One build at a time per OUT_DIR (parallel test JVMs); the library is replaced atomically.
exec 9>"$out/.build.lock"
flock 9 2>/dev/null || true
if [ -f "$lib" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$hash" ]; then
    echo "$lib"
    exit 0
fi

tmp=$(mktemp -d "$out/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
start=$(date +%s)
"$cxx" "${flags[@]}" -c "$here/kernels.cpp" -o "$tmp/kernels.o" &
kpid=$!
"$cxx" "${flags[@]}" -Wall -Wextra -c "$here/emulated_cuda.cpp" -o "$tmp/emulated_cuda.o"
wait "$kpid"
printf '{ global: cu*; continuum_emulated_cuda_info; local: *; };\n' > "$tmp/exports.map"
"$cxx" -shared -pthread -Wl,-soname,libcuda.so.1 -Wl,--no-undefined -Wl,-z,noexecstack \
    -Wl,--version-script="$tmp/exports.map" \
    "$tmp/kernels.o" "$tmp/emulated_cuda.o" -o "$tmp/libcuda.so.1"
# The executor's self-test (a few hundred ms): a broken context switch should fail here, not inside a JVM.
"$cxx" -std=c++20 -O2 -pthread -fcf-protection=none -I"$own_shim" -I"$cuda_include" \
    "$here/fiber_selftest.cpp" -o "$tmp/fiber_selftest"
"$tmp/fiber_selftest" >&2
mv -f "$tmp/libcuda.so.1" "$lib"
echo "$hash" > "$stamp"
echo "build.sh: built $lib in $(( $(date +%s) - start )) s" >&2
echo "$lib"
