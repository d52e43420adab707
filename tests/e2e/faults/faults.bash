# Helpers of the fault-injection tests (tests/e2e/faults/*.sh), sourced after
# ../lib/common.sh. Not a test itself (CTest runs *.sh only).

# Mounted file systems, unmounted on exit before $WORK is removed.
_mounts=()
_unmount_all() {
  # A background job killed while still a forked bash can run this trap:
  # only the test's own shell cleans up.
  [ "$BASHPID" = "$$" ] || return 0
  local m
  for m in "${_mounts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap _unmount_all EXIT

# mount_tmpfs DIR SIZE [ro]: a small tmpfs at DIR (created); false, and
# the part that needs it counted as skipped (skip_part), when this machine
# does not let us mount (not root, a container).
mount_tmpfs() {
  mkdir -p "$1"
  if mount -t tmpfs -o "size=$2" tmpfs "$1" 2>/dev/null; then
    _mounts+=("$1")
    if [ "${3:-}" = ro ]; then mount -o remount,ro "$1" || return 1; fi
    return 0
  fi
  skip_part "cannot mount a tmpfs at $1 (needs root)"
  return 1
}

# A build with AddressSanitizer cannot run under `ulimit -v` (its shadow
# memory reserves terabytes of address space).
is_asan_build() {
  case "$GRIST_BIN" in *asan*|*tsan*) return 0 ;; esac
  return 1
}

# save_previous FILE...: puts a recognisable previous version in each FILE
# and remembers it, for check_untouched.
save_previous() {
  local f
  for f in "$@"; do
    printf 'previous version of %s\n' "$f" > "$f"
    cp "$f" "$f.saved"
  done
}

# check_untouched NAME FILE: FILE is byte-identical to what save_previous wrote.
check_untouched() {
  if cmp -s "$2" "$2.saved"; then pass; else fail "$1: $2 was changed or removed"; fi
}

# check_failed NAME RC ERRFILE PATTERN: exit status 1 and a message matching
# PATTERN that starts with the program's name.
check_failed() {
  check_status "$1" 1 "$2"
  check_grep "$1: message" "^grist-[a-z-]+: .*($4)" "$3"
}

# check_signalled NAME RC SIG: death by SIG (128+n), or exit 1.
check_signalled() {
  local want
  want=$((128 + $(kill -l "$3")))
  case "$2" in "$want"|1) pass ;; *) fail "$1: exit status $2, expected $want (or 1)" ;; esac
}

# check_clean NAME DIR...: no temporary files beside the outputs, in -T
# dirs, or in $TMPDIR.
check_clean() {
  local name=$1; shift
  check_no_temps "$name" "$@"
  local left
  left=$(find "$@" -name '.*.grist-tmp.*' 2>/dev/null | head -5)
  if [ -n "$left" ]; then fail "$name: hidden temporaries left: $left"; else pass; fi
}
