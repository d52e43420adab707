#!/usr/bin/env bash
# The committed man pages and shell completions are exactly what the built
# programs generate from their option definitions (docs/design.md, "Common
# options"), and they work:
#   - man/grist-X.1, completions/bash/grist-X, completions/zsh/_grist-X and
#     completions/fish/grist-X.fish equal `grist-X --generate KIND`;
#   - the man page passes mandoc -Tlint -Wwarning;
#   - bash: sourced, "grist-X --th<TAB>" offers --threads, "-o pro<TAB>"
#     offers a file;
#   - fish: complete -C "grist-X --" lists --threads;
#   - zsh: zsh -n parses the file;
#   - no committed page or completion is left for a tool that is gone.
# A check whose program (mandoc, zsh, fish) is missing is skipped: exit 77
# if nothing failed; under GRIST_REQUIRE_ALL=1 (CI) a failure instead.
# Env: GRIST_BIN (built programs), GRIST_SRC (repo root), GRIST_TEST_TMP.
# Fix a failure with: scripts/gen-docs.sh "$GRIST_BIN", review, commit.
set -u

: "${GRIST_BIN:?GRIST_BIN is not set}" "${GRIST_SRC:?GRIST_SRC is not set}"
base=${GRIST_TEST_TMP:-${TMPDIR:-/tmp}}
mkdir -p "$base"
tmp=$(mktemp -d "$base/docs-generated.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
have() { command -v "$1" >/dev/null 2>&1; }

skipped=0
for t in mandoc bash zsh fish; do
  if ! have "$t"; then
    if [[ ${GRIST_REQUIRE_ALL:-0} == 1 ]]; then
      fail "$t is not installed (GRIST_REQUIRE_ALL=1; scripts/install-deps.sh installs it)"
    else
      echo "SKIP (part): $t is not installed; its checks are skipped"
      skipped=$((skipped + 1))
    fi
  fi
done

shopt -s nullglob
programs=0
for prog in "$GRIST_BIN"/grist-*; do
  [[ -f $prog && -x $prog ]] || continue
  name=${prog##*/}
  programs=$((programs + 1))
  echo "== $name"

  # 1. Committed == generated.
  declare -A committed=(
    [man]="man/$name.1"
    [bash]="completions/bash/$name"
    [zsh]="completions/zsh/_$name"
    [fish]="completions/fish/$name.fish"
  )
  for kind in man bash zsh fish; do
    rel=${committed[$kind]}
    gen="$tmp/$name.$kind"
    if ! "$prog" --generate "$kind" >"$gen" 2>"$tmp/err"; then
      fail "$name --generate $kind exited non-zero: $(cat "$tmp/err")"
      continue
    fi
    if [[ ! -s $gen ]]; then
      fail "$name --generate $kind wrote nothing"
      continue
    fi
    if [[ ! -f $GRIST_SRC/$rel ]]; then
      fail "$rel is missing (run scripts/gen-docs.sh $GRIST_BIN and commit it)"
    elif ! diff -u --label "$rel (committed)" --label "$name --generate $kind" \
        "$GRIST_SRC/$rel" "$gen"; then
      fail "$rel differs from '$name --generate $kind' (diff above; run scripts/gen-docs.sh $GRIST_BIN)"
    fi
  done

  # 2. The option definition passes its meta-test: no duplicated names,
  # every value option has a type name, help lines fit 79 columns.
  if ! out=$("$prog" --generate lint 2>&1); then
    fail "$name option lint:"
    echo "$out"
  fi

  # 3. The page passes mandoc.
  if have mandoc; then
    if ! out=$(mandoc -Tlint -Wwarning "$tmp/$name.man" 2>&1); then
      fail "man page of $name does not pass mandoc -Tlint -Wwarning:"
      echo "$out"
    fi
  fi

  # 4. bash: source it and complete.
  if have bash; then
    mkdir -p "$tmp/cwd" && : >"$tmp/cwd/probe-file.txt"
    out=$(cd "$tmp/cwd" && bash --norc --noprofile -c '
      source "$1" || exit 90
      fn=$(complete -p "$2" 2>/dev/null | sed -n "s/.*-F \([^ ]*\) .*/\1/p")
      [[ -n $fn ]] || exit 91
      COMP_WORDS=("$2" --th); COMP_CWORD=1; COMPREPLY=()
      "$fn"; echo "threads: ${COMPREPLY[*]}"
      if grep -q -- "-o|--output)" "$1"; then
        COMP_WORDS=("$2" -o probe-); COMP_CWORD=2; COMPREPLY=()
        "$fn" 2>/dev/null; echo "output: ${COMPREPLY[*]}"
      fi' _ "$tmp/$name.bash" "$name" 2>&1)
    rc=$?
    if (( rc != 0 )); then
      case $rc in
        90) why="sourcing it failed" ;;
        91) why="it defines no 'complete -F FUNCTION $name'" ;;
        *) why="exit status $rc" ;;
      esac
      fail "bash completion of $name could not be loaded: $why: $out"
    else
      grep -qE '^threads: (.* )?--threads( |$)' <<<"$out" ||
        fail "bash: '$name --th<TAB>' does not offer --threads; got: $out"
      if grep -q '^output:' <<<"$out"; then
        grep -q '^output: .*probe-file.txt' <<<"$out" ||
          fail "bash: '$name -o probe-<TAB>' does not offer the file probe-file.txt; got: $out"
      fi
    fi
  fi

  # 5. fish: load it and complete.
  if have fish; then
    out=$(HOME=$tmp XDG_CONFIG_HOME=$tmp/xdg-config XDG_DATA_HOME=$tmp/xdg-data \
          XDG_CACHE_HOME=$tmp/xdg-cache fish --no-config -c \
          'source $argv[1]; and complete -C "$argv[2] --"' "$tmp/$name.fish" "$name" 2>&1)
    if ! grep -qE '^--threads(\s|$)' <<<"$out"; then
      fail "fish: 'complete -C \"$name --\"' does not list --threads; got:"
      echo "$out"
    fi
  fi

  # 6. zsh: it parses.
  if have zsh; then
    if ! out=$(zsh -n "$tmp/$name.zsh" 2>&1); then
      fail "zsh -n rejects the zsh completion of $name: $out"
    fi
  fi

  # 6b. --help and a usage error show the same usage line: the synopsis of
  # the man page (the line after .SH SYNOPSIS, without its fonts).
  help_usage=$("$prog" --help 2>&1 | grep -m1 '^Usage: ')
  error_usage=$("$prog" --no-such-option 2>&1 | grep -m1 '^Usage: ')
  synopsis=$(awk '/^\.SH SYNOPSIS/ { getline; print; exit }' "$tmp/$name.man" |
             sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' -e 's/\\&//g')
  [[ $help_usage == "$error_usage" ]] ||
    fail "$name: --help says '$help_usage' but a usage error says '$error_usage'"
  [[ $help_usage == "Usage: $synopsis" ]] ||
    fail "$name: --help says '$help_usage', the man page's synopsis is '$synopsis'"
  unset committed
done

# 7. Nothing committed for a tool that no longer exists.
for f in "$GRIST_SRC"/man/grist-*.1 "$GRIST_SRC"/completions/bash/grist-* \
         "$GRIST_SRC"/completions/zsh/_grist-* "$GRIST_SRC"/completions/fish/grist-*.fish; do
  base_name=${f##*/}
  base_name=${base_name#_}
  base_name=${base_name%.1}
  base_name=${base_name%.fish}
  tool=${base_name#grist-}
  if [[ ! -f $GRIST_SRC/tools/$tool/main.cpp ]]; then
    fail "${f#"$GRIST_SRC"/} belongs to no tool (no tools/$tool/main.cpp); remove it"
  fi
done

if (( programs == 0 )); then
  fail "no grist-* programs in $GRIST_BIN; nothing to compare"
fi
if (( failures > 0 )); then
  echo "$failures failure(s)"
  exit 1
fi
if (( skipped > 0 )); then
  echo "ok: $programs program(s), $skipped tool(s) missing: skipped"
  exit 77
fi
echo "ok: $programs program(s)"
exit 0
