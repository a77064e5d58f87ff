#!/usr/bin/env bash
# Builds Continuum's native CPU kernels (src/main/native/cpu/*.c) into the jar's resources, called by the Maven
# build (exec-maven-plugin, generate-resources) with the classes directory as $1:
#   $1/dev/continuum/tensor/native/linux-x86_64/libcontinuum_cpu.so
# The library is built for plain x86-64 with the AVX-512/VNNI instructions enabled per kernel function, so it loads
# on any x86-64 CPU and Java picks its kernels only where the CPU has them (continuum_cpu_features).
#
# Without gcc, or on another architecture, the build goes on without the library and the server runs the pure-Java
# kernels (it says so at start-up). CI=true makes a missing gcc an error: CI must test the native route.
set -euo pipefail
out_root=${1:?usage: build.sh CLASSES_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
target="$out_root/dev/continuum/tensor/native/linux-x86_64"
lib="$target/libcontinuum_cpu.so"
arch=$(uname -m)
if [ "$arch" != "x86_64" ]; then
  echo "native: $arch is not x86_64; building without native kernels (the pure-Java kernels serve)" >&2
  exit 0
fi
if ! command -v gcc >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "native: gcc is missing and CI=true: the native kernels must be built and tested in CI" >&2
    exit 1
  fi
  echo "native: gcc not found; building without native kernels (the pure-Java kernels serve)" >&2
  exit 0
fi
sources=("$here"/cpu/*.c)
# Up to date: nothing to do (the build runs on every mvn invocation).
if [ -f "$lib" ]; then
  stale=0
  for s in "${sources[@]}" "$here/build.sh"; do
    [ "$s" -nt "$lib" ] && stale=1
  done
  [ "$stale" = 0 ] && exit 0
fi
mkdir -p "$target"
# -ffp-contract=off: the kernels' float order is the Java reference's, bit for bit (no fused multiply-adds the
# reference does not fuse). -fno-plt/-fvisibility: only the exported continuum_* functions are visible.
gcc -O3 -std=c11 -Wall -Wextra -Werror -ffp-contract=off -fPIC -shared -fvisibility=default \
    -Wl,-z,noexecstack -o "$lib.tmp" "${sources[@]}"
mv "$lib.tmp" "$lib"
echo "native: built $lib" >&2
