#!/bin/bash
# The output bytes do not depend on -j, on a multi-MB input of several
# blocks (English, non-ASCII and invalid UTF-8 mixed).
. "$(dirname "$0")/../lib/common.sh"

awk 'BEGIN {
  split("the of and The Straße naïve 東京の ΣΑΣ don'"'"'t 3.14 x@y.com e.g. ﬃ", w, " ");
  srand(42);
  for (i = 0; i < 200000; i++) {
    line = "";
    n = 1 + int(rand() * 12);
    for (j = 0; j < n; j++) line = line w[1 + int(rand() * 14)] (rand() < 0.1 ? ", " : " ");
    if (i % 997 == 0) line = line "\377bad\300";
    print line;
  }
}' >in.txt
size=$(wc -c <in.txt)
[ "$size" -gt 5000000 ] && pass || fail "input only $size bytes"

for opts in "" "--lower" "--pairs --ngrams 1-2" "--mode whitespace"; do
  grist-tokenize -j1 $opts in.txt >j1
  grist-tokenize -j2 $opts in.txt >j2
  grist-tokenize -j4 $opts in.txt >j4
  check_eq "-j1 vs -j2 ($opts)" j1 j2
  check_eq "-j1 vs -j4 ($opts)" j1 j4
done
[ -s j1 ] && pass || fail "empty output"

# The -v summary counts the invalid bytes.
run_cmd out err grist-tokenize -v -j2 in.txt
check_grep "invalid bytes counted" ' 402 invalid UTF-8 bytes' err

finish
