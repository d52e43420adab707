#!/bin/sh
# Installs the Debian 12 packages grist needs to build and test, including
# OpenMPI (grist-train-sgd --allreduce), Slurm and munge (the scale-out
# tests and contrib/slurm), clang's libFuzzer, GNU time (the memory
# test) and procps (pgrep, in the signal tests). Idempotent: packages
# already present are left alone. grist-serve: libmicrohttpd-dev (its HTTP
# server), curl and python3 (its tests), wrk (bench/serve.sh).
set -eu
pkgs="build-essential cmake pkg-config libcli11-dev libsimdjson-dev libzstd-dev
zstd libtbb-dev catch2 libxxhash-dev libicu-dev zlib1g-dev libbz2-dev bzip2
liblzma-dev xz-utils mandoc
bash-completion zsh fish unicode-data clang-14 libclang-rt-14-dev
openmpi-bin libopenmpi-dev slurm-wlm munge make time procps
g++-aarch64-linux-gnu libmicrohttpd-dev curl python3 wrk"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
