# Helpers for end-to-end tests. Source it first thing:
#   . "$(dirname "$0")/../lib/common.sh"
# CTest sets GRIST_BIN (the built programs) and GRIST_SRC (the repository);
# run by hand, they default to build/bin and the repository of this file.
set -euo pipefail
export LC_ALL=C
GRIST_SRC=${GRIST_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
GRIST_BIN=${GRIST_BIN:-$GRIST_SRC/build/bin}
PATH=$GRIST_BIN:$PATH
_base=${GRIST_TEST_TMP:-${TMPDIR:-/tmp}}
mkdir -p "$_base"
WORK=$(mktemp -d "$_base/e2e.XXXXXX")
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
_fails=0
_checks=0

# A non-interactive shell starts background jobs with SIGINT and SIGQUIT
# ignored, and grist keeps a signal it inherited as ignored (as GNU sort
# does, for nohup and background jobs): a test that signals a background
# job starts it as `$SIGDFL grist-... &`, every signal at its default.
SIGDFL="env --default-signal"

fail() { echo "FAIL: $*" >&2; _fails=$((_fails + 1)); }
pass() { _checks=$((_checks + 1)); }

# check_eq NAME EXPECTED_FILE ACTUAL_FILE: whole-output comparison.
check_eq() {
  if cmp -s "$2" "$3"; then pass; else
    fail "$1: outputs differ"; diff <(head -c 100000 "$2") <(head -c 100000 "$3") | head -20 >&2 || true
  fi
}

# check_status NAME EXPECTED ACTUAL
check_status() {
  if [ "$2" = "$3" ]; then pass; else fail "$1: exit status $3, expected $2"; fi
}

# check_grep NAME PATTERN FILE: FILE matches the extended regex PATTERN.
check_grep() {
  if grep -Eq -- "$2" "$3"; then pass; else
    fail "$1: '$2' not found in $3:"; head -5 "$3" >&2
  fi
}

# check_no_file NAME PATH
check_no_file() {
  if [ -e "$2" ]; then fail "$1: $2 exists"; else pass; fi
}

# check_no_temps NAME DIR...: no leftover temporary or spill files.
check_no_temps() {
  local name=$1; shift
  local left
  left=$(find "$@" -name '*.grist-tmp.*' -o -name '.grist-spill.*' 2>/dev/null | head -5)
  if [ -n "$left" ]; then fail "$name: temporary files left: $left"; else pass; fi
  left=$(find "$TMPDIR" -mindepth 1 2>/dev/null | head -5)
  if [ -n "$left" ]; then fail "$name: files left in TMPDIR: $left"; else pass; fi
}

# run_cmd OUT ERR CMD...: runs CMD, stdout to OUT, stderr to ERR; sets $rc.
run_cmd() {
  local out=$1 err=$2; shift 2
  set +e
  "$@" >"$out" 2>"$err"
  rc=$?
  set -e
}

# finish: call last; prints the counts and sets the exit status.
finish() {
  echo "$_checks passed, $_fails failed"
  [ "$_fails" -eq 0 ]
}
