#!/usr/bin/env bash
# Configures and builds converge. Usage: scripts/build.sh [release|test] (default: release)
#   release  build/release, optimized, no tests: what the quickstart runs
#   test     build/test, AddressSanitizer + UndefinedBehaviorSanitizer, with the test suite
set -euo pipefail
cd "$(dirname "$0")/.."
kind="${1:-release}"
jobs="${CONVERGE_JOBS:-$(nproc)}"
case "$kind" in
  release)
    cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DCONVERGE_TESTS=OFF >/dev/null
    cmake --build build/release --target converge -j "$jobs"
    ;;
  test)
    cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCONVERGE_SANITIZE=ON \
      -DCONVERGE_TESTS=ON -DCONVERGE_WERROR=ON >/dev/null
    cmake --build build/test -j "$jobs"
    ;;
  *)
    echo "usage: scripts/build.sh [release|test]" >&2
    exit 1
    ;;
esac
