#!/bin/bash
# For ASCII text of letters and separators that never join letters (no
# digits, apostrophes, periods, colons, underscores or @), --lower equals the
# classic tr pipeline.
. "$(dirname "$0")/../lib/common.sh"

awk 'BEGIN {
  srand(7);
  letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  nsep = split(" | |  |, |!|?|-|(|)|;|\"|/|\t|--|,|&|*|+|=|#|%|<|>|[|]|{|}|~|$", sep, "|");
  for (i = 0; i < 40000; i++) {
    line = "";
    n = int(rand() * 15);
    for (j = 0; j < n; j++) {
      len = 1 + int(rand() * (rand() < 0.9 ? 8 : 30));
      w = "";
      for (k = 0; k < len; k++) w = w substr(letters, 1 + int(rand() * 52), 1);
      line = line w sep[1 + int(rand() * nsep)];
    }
    print line;
  }
}' >in.txt
tr -cs A-Za-z '\n' <in.txt | tr A-Z a-z | grep -v '^$' >want
grist-tokenize --lower in.txt >got
check_eq "tr oracle, --lower" want got
tr -cs A-Za-z '\n' <in.txt | grep -v '^$' >want
grist-tokenize -j2 in.txt >got
check_eq "tr oracle" want got
[ "$(wc -l <want)" -gt 100000 ] && pass || fail "too few tokens"

finish
