#!/bin/sh
# Configures and builds grist (Release) into build/, or into $1.
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build}
if [ $# -gt 0 ]; then shift; fi
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
