#!/usr/bin/env bash
# Outputs onto what is not a plain new file, for every output of every
# program (-o of the six, train-sgd's -f and --readable-model, partition
# directories): a device is written through, never replaced (/dev/full:
# exit 1, "No space left on device" naming it; /dev/null: exit 0), a FIFO
# gets the bytes its reader expects, /dev/stdout is standard output (append
# mode kept), a symlink (chain, dangling) is followed and the file it names
# is replaced (the link stays, no temporary left beside link or target),
# and an existing file keeps its mode, group and owner.
#
# The devices are made here with mknod (as root), so that a program that
# would replace its output never touches the system's /dev/null. Without
# root the system's own are used (nobody else could replace them).
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"

skipped=0
if [ "$(id -u)" = 0 ]; then
  if mknod devfull c 1 7 2>/dev/null && mknod devnull c 1 3 2>/dev/null; then
    full=$PWD/devfull null=$PWD/devnull
  else
    echo "skipped: the device cases (mknod is not allowed here)"
    full= null= skipped=1
  fi
else
  full=/dev/full null=/dev/null
fi

awk 'BEGIN { srand(3); for (i = 0; i < 20000; i++) printf "k%d\t%d\n", int(rand() * 1e6), i % 7 }' > kv.txt
LC_ALL=C sort kv.txt > sorted.txt
awk 'BEGIN { srand(4); for (i = 0; i < 3000; i++) { printf "%d", (rand() < 0.5 ? 1 : -1);
  for (j = 0; j < 4; j++) printf " %d:1", 1 + int(rand() * 3000); print "" } }' > train.svm
grist-train-sgd -q -b 12 -f model.bin train.svm
mkdir sub

# writer: NAME|COMMAND, OUT standing for the output
writers=(
  "count -o|grist-count -o OUT kv.txt"
  "shuffle-sort -o|grist-shuffle-sort -o OUT kv.txt"
  "shuffle-sort --random|grist-shuffle-sort --random -o OUT kv.txt"
  "merge -o|grist-merge -o OUT sorted.txt sorted.txt"
  "tokenize -o|grist-tokenize -o OUT kv.txt"
  "train-sgd -f|grist-train-sgd -q -j1 -b 12 -f OUT train.svm"
  "train-sgd --readable-model|grist-train-sgd -q -j1 -b 12 -f m.bin --readable-model OUT train.svm"
  "predict -o|grist-predict -i model.bin -o OUT train.svm"
)

# run NAME OUT COMMAND: runs COMMAND with OUT in place; sets $rc, stderr in e.txt.
run() {
  local cmd=${3//OUT/$2}
  set +e
  # shellcheck disable=SC2086
  $cmd > stdout.txt 2> e.txt
  rc=$?
  set -e
}

is_char() { if [ -c "$2" ]; then pass; else fail "$1: $2 is no longer a character device"; fi; }

for w in "${writers[@]}"; do
  IFS='|' read -r name cmd <<< "$w"
  run "$name" ref.out "$cmd"
  check_status "$name: reference run" 0 "$rc"

  if [ -n "$full" ]; then
    run "$name" "$full" "$cmd"
    check_failed "$name -> /dev/full" "$rc" e.txt "$full: write error: No space left on device"
    is_char "$name -> /dev/full" "$full"
    run "$name" "$null" "$cmd"
    check_status "$name -> /dev/null" 0 "$rc"
    is_char "$name -> /dev/null" "$null"
  fi

  # A FIFO with a reader gets the whole output.
  rm -f out.fifo; mkfifo out.fifo
  cat out.fifo > got &
  run "$name" out.fifo "$cmd"
  wait $!
  check_status "$name -> FIFO" 0 "$rc"
  check_eq "$name -> FIFO: bytes" ref.out got
  [ -p out.fifo ] && pass || fail "$name -> FIFO: no longer a FIFO"

  # /dev/stdout is standard output, in append mode if so opened.
  echo previous > got
  run "$name" /dev/stdout "$cmd"
  check_status "$name -> /dev/stdout" 0 "$rc"
  check_eq "$name -> /dev/stdout: bytes" ref.out stdout.txt
  set +e; ${cmd//OUT//dev/stdout} >> got 2> e.txt; rc=$?; set -e
  check_status "$name -> /dev/stdout >> FILE" 0 "$rc"
  (echo previous; cat ref.out) > want
  check_eq "$name -> /dev/stdout >> FILE: appended" want got

  # A chain of symlinks to a file in another directory, mode 0600, another
  # group (and owner, as root): the target is replaced, the links stay.
  rm -f sub/target link1 link2
  echo previous > sub/target
  chmod 0600 sub/target
  if [ "$(id -u)" = 0 ]; then chown nobody:daemon sub/target; fi
  before=$(stat -c '%U:%G %a' sub/target)
  ln -s sub/target link1
  ln -s link1 link2
  run "$name" link2 "$cmd"
  check_status "$name -> symlink" 0 "$rc"
  check_eq "$name -> symlink: the target's bytes" ref.out sub/target
  [ "$(readlink link2)" = link1 ] && [ "$(readlink link1)" = sub/target ] && pass ||
    fail "$name -> symlink: the links changed"
  after=$(stat -c '%U:%G %a' sub/target)
  [ "$before" = "$after" ] && pass || fail "$name -> symlink: owner, group, mode $before became $after"
  check_clean "$name -> symlink" . sub

  # A dangling symlink: its target is created.
  rm -f sub/new dangling
  ln -s sub/new dangling
  run "$name" dangling "$cmd"
  check_status "$name -> dangling symlink" 0 "$rc"
  [ -L dangling ] && pass || fail "$name -> dangling symlink: the link was replaced"
  check_eq "$name -> dangling symlink: target created" ref.out sub/new
  check_clean "$name -> dangling symlink" . sub

  # An existing file keeps its mode.
  echo previous > plain; chmod 0640 plain
  run "$name" plain "$cmd"
  check_eq "$name -> existing file" ref.out plain
  [ "$(stat -c %a plain)" = 640 ] && pass || fail "$name -> existing file: mode $(stat -c %a plain)"
  rm -f ref.out m.bin got
done

# Compressed output through a FIFO.
rm -f out.fifo; mkfifo out.fifo
cat out.fifo > got.zst &
run "count -o FIFO.zst" out.fifo "grist-count --zstd -o OUT kv.txt"
wait $!
check_status "count --zstd -> FIFO" 0 "$rc"
grist-count kv.txt > want
grist-merge got.zst > got
check_eq "count --zstd -> FIFO: decoded" want got

# Partition directories: a symlink to an empty directory, or a dangling
# one, is followed (the link stays, the directory it names is built); one
# to a directory that is not empty, or a device, is refused.
for w in "count|grist-count -p 2 -o OUT kv.txt" \
         "shuffle-sort|grist-shuffle-sort -p 2 -o OUT kv.txt"; do
  IFS='|' read -r name cmd <<< "$w"
  rm -rf sub/d dlink ref.d
  run "$name -p" ref.d "$cmd"
  mkdir sub/d
  ln -s sub/d dlink
  run "$name -p" dlink "$cmd"
  check_status "$name -p -> symlink to an empty directory" 0 "$rc"
  [ -L dlink ] && [ -f sub/d/_SUCCESS ] && pass || fail "$name -p -> symlink: not built through the link"
  diff -r ref.d sub/d > /dev/null && pass || fail "$name -p -> symlink: parts differ"
  rm -rf sub/d
  run "$name -p" dlink "$cmd"
  check_status "$name -p -> dangling symlink" 0 "$rc"
  [ -L dlink ] && [ -f sub/d/_SUCCESS ] && pass || fail "$name -p -> dangling symlink: not created"
  run "$name -p" dlink "$cmd"
  check_failed "$name -p -> symlink to a full directory" "$rc" e.txt "dlink: output directory exists and is not empty"
  if [ -n "$null" ]; then
    run "$name -p" "$null" "$cmd"
    check_failed "$name -p -> /dev/null" "$rc" e.txt "exists and is not a directory"
    is_char "$name -p -> /dev/null" "$null"
  fi
  check_clean "$name -p" . sub
done

finish
[ "$skipped" = 0 ] || exit 77
