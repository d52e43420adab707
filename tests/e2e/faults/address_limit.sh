#!/usr/bin/env bash
# A small address-space limit (ulimit -v 300000, as GNU sort takes it) and
# a tiny input: every program and mode succeeds with its default options,
# and with -j 16 (the default of a 16-core machine: every thread's stack
# and malloc arena counts against the limit). Memory is taken as the input
# needs it, never the whole -S up front; under a limit the default -S is
# half of it and the default -j and malloc's arenas fit in it. Outputs are
# compared with the same runs without the limit. Sanitizer builds (their
# shadow memory reserves terabytes of address space) run without it.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"

limit="ulimit -v 300000;"
if is_asan_build; then limit=; fi
limited() { bash -c "$limit exec timeout 60 \"\$@\"" limited "$@"; }

printf 'b\t2\na\t1\n' > two.txt
printf 'a\t1\nb\t2\n' > sorted.txt
printf 'the cat\nthe dog\n' > text.txt
printf '1 1:1 2:0.5\n-1 3:1\n' > two.svm
grist-train-sgd -q two.svm -f ref.model
grist-shuffle-sort -p 2 -o ref.d two.txt

# check NAME OUTPUT CMD...: CMD under the limit exits 0 and writes what it
# writes without the limit (OUTPUT: the file it writes, or - for stdout).
check() {
  local name=$1 output=$2; shift 2
  for j in "" "-j 16"; do
    rm -rf lim.out ref.out
    # shellcheck disable=SC2086
    run_cmd lim.stdout err.txt limited "$@" $j
    check_status "$name $j: under ulimit -v 300000" 0 "$rc"
    [ "$rc" = 0 ] || head -3 err.txt >&2
    if [ "$output" = - ]; then mv lim.stdout lim.out; else mv "$output" lim.out 2>/dev/null || :; fi
    # shellcheck disable=SC2086
    "$@" $j > ref.stdout
    if [ "$output" = - ]; then mv ref.stdout ref.out; else mv "$output" ref.out; fi
    if [ -d ref.out ]; then
      for f in ref.out/part-*; do
        cmp -s <(zstd -dc "$f") <(zstd -dc "lim.out/${f#ref.out/}" 2>/dev/null) && pass ||
          fail "$name $j: $f differs"
      done
    else
      cmp -s ref.out lim.out 2>/dev/null && pass || fail "$name $j: output differs"
    fi
  done
}

check "shuffle-sort" - grist-shuffle-sort two.txt
check "shuffle-sort --random" - grist-shuffle-sort --random two.txt
check "shuffle-sort --combine sum" - grist-shuffle-sort --combine sum two.txt
check "shuffle-sort --by line" - grist-shuffle-sort --by line two.txt
check "shuffle-sort -p 2" out.d grist-shuffle-sort -p 2 -o out.d two.txt
check "shuffle-sort --check" - grist-shuffle-sort --check sorted.txt
check "merge" - grist-merge sorted.txt sorted.txt
check "merge --reduce sum" - grist-merge --reduce sum sorted.txt sorted.txt
check "merge of directories" out.d grist-merge ref.d ref.d -o out.d
check "merge --single" - grist-merge --single ref.d
check "count" - grist-count two.txt
check "count -p 2" out.d grist-count -p 2 -o out.d two.txt
check "count --top" - grist-count --top 1 two.txt
check "tokenize" - grist-tokenize text.txt
check "tokenize --pairs" - grist-tokenize --pairs text.txt
check "train-sgd" out.model grist-train-sgd -q two.svm -f out.model
check "predict" - grist-predict -i ref.model two.svm
check_no_temps address_limit "$WORK"
finish
