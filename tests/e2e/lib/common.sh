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
_skips=0

# A non-interactive shell starts background jobs with SIGINT and SIGQUIT
# ignored, and grist keeps a signal it inherited as ignored (as GNU sort
# does, for nohup and background jobs): a test that signals a background
# job starts it as `$SIGDFL grist-... &`, every signal at its default.
SIGDFL="env --default-signal"

fail() { echo "FAIL: $*" >&2; _fails=$((_fails + 1)); }
pass() { _checks=$((_checks + 1)); }

# A test that cannot run here exits 77, which CTest reports as skipped
# (never as passed). Under GRIST_REQUIRE_ALL=1 (.ci/run: CI installs
# everything the tests need) a skip is a failure instead.
# skip REASON: the whole test cannot run; exits at once.
skip() {
  if [ "${GRIST_REQUIRE_ALL:-0}" = 1 ]; then
    echo "FAIL: cannot run: $* (GRIST_REQUIRE_ALL=1)" >&2
    exit 1
  fi
  echo "SKIP: $*"
  exit 77
}
# skip_part REASON: one part cannot run; the rest goes on and finish exits
# 77 if nothing failed.
skip_part() {
  if [ "${GRIST_REQUIRE_ALL:-0}" = 1 ]; then
    fail "cannot run: $* (GRIST_REQUIRE_ALL=1)"
    return 0
  fi
  echo "SKIP (part): $*"
  _skips=$((_skips + 1))
}

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

# stop_at POINT CMD...: starts CMD in the background with
# GRIST_TEST_STOP_AT=POINT (lib/grist/io/test_hook.hpp: "spill:2", "merge",
# "output", "commit", "pass:2"...) and waits until it has stopped itself
# there, mid-run; sets $pid. Returns 1, with $rc set to its exit status, if
# it ended without reaching POINT. Redirect the call's stderr to keep the
# program's messages.
stop_at() {
  local point=$1 state _
  shift
  GRIST_TEST_STOP_AT=$point $SIGDFL "$@" &
  pid=$!
  for _ in $(seq 12000); do  # 2 minutes at most
    state=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$pid/stat" 2>/dev/null || true)
    [ "$state" = T ] && return 0
    if [ -z "$state" ] || [ "$state" = Z ]; then
      set +e; wait "$pid"; rc=$?; set -e
      return 1
    fi
    sleep 0.01
  done
  kill -KILL "$pid" 2>/dev/null || true
  set +e; wait "$pid"; rc=$?; set -e
  return 1
}

# kill_stopped SIG: sends SIG to the process that stop_at left stopped,
# continues it (SIGCONT) and waits for its end; sets $rc.
kill_stopped() {
  kill -s "$1" "$pid"
  kill -CONT "$pid"
  set +e; wait "$pid"; rc=$?; set -e
}

# finish: call last; prints the counts and sets the exit status: 1 if a
# check failed, else 77 if a part was skipped, else 0.
finish() {
  if [ "$_skips" -gt 0 ]; then
    echo "$_checks passed, $_fails failed, $_skips part(s) skipped"
  else
    echo "$_checks passed, $_fails failed"
  fi
  [ "$_fails" -eq 0 ] || return 1
  [ "$_skips" -eq 0 ] || return 77
}
