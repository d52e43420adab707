#!/usr/bin/env bash
# Regenerates the committed man pages and shell completions from the built
# programs' own option definitions (their hidden --generate option):
#
#   man/grist-X.1  completions/bash/grist-X  completions/zsh/_grist-X
#   completions/fish/grist-X.fish
#
# Usage: scripts/gen-docs.sh [BIN_DIR]     (default: build/bin)
#
# Run it after changing a tool's options and commit the result;
# tests/e2e/docs/generated.sh fails until the committed files match.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${1:-$root/build/bin}
if [[ ! -d $bin ]]; then
  echo "gen-docs.sh: $bin: no such directory (build first, or give the bin dir)" >&2
  exit 2
fi

shopt -s nullglob
progs=()
for p in "$bin"/grist-*; do
  [[ -f $p && -x $p ]] && progs+=("$p")
done
if (( ${#progs[@]} == 0 )); then
  echo "gen-docs.sh: no grist-* programs in $bin" >&2
  exit 1
fi

mkdir -p "$root/man" "$root/completions/bash" "$root/completions/zsh" "$root/completions/fish"

# gen PROGRAM KIND TARGET: writes atomically, so a failure leaves TARGET as it was.
gen() {
  local tmp="$3.tmp.$$"
  if ! "$1" --generate "$2" >"$tmp"; then
    rm -f "$tmp"
    echo "gen-docs.sh: '$1 --generate $2' failed" >&2
    return 1
  fi
  mv -f "$tmp" "$3"
}

status=0
for p in "${progs[@]}"; do
  name=${p##*/}
  gen "$p" man "$root/man/$name.1" || status=1
  gen "$p" bash "$root/completions/bash/$name" || status=1
  gen "$p" zsh "$root/completions/zsh/_$name" || status=1
  gen "$p" fish "$root/completions/fish/$name.fish" || status=1
  if command -v mandoc >/dev/null && [[ -f $root/man/$name.1 ]]; then
    mandoc -Tlint -Wwarning "$root/man/$name.1" || {
      echo "gen-docs.sh: man/$name.1 does not pass mandoc -Tlint -Wwarning" >&2
      status=1
    }
  fi
  echo "gen-docs.sh: $name: man/$name.1 completions/{bash/$name,zsh/_$name,fish/$name.fish}"
done
exit $status
