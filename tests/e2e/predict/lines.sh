#!/bin/bash
# grist-predict writes one output line per input line, whatever the line
# holds (an example, nothing, a comment, a malformed example under
# --on-error skip), so that output line N is about input line N; -v counts
# the lines and the input bytes.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/train-sgd/gen_data.bash"

gen_svm 2000 4 > train.svm
grist-train-sgd -q -j1 train.svm -b 12 -f m.gsgd
printf -- '-1 |a x\n1 |b y\n' > t.vw
grist-train-sgd -q -j1 t.vw -b 12 -f v.gsgd

# One example per line: the reference predictions, line by line.
gen_svm 50 5 > test.svm
grist-predict -i m.gsgd test.svm > ref.txt
check_eq "one line per example" <(wc -l < test.svm) <(wc -l < ref.txt)

# The same examples with blank lines, whitespace-only lines, comments, CRLF
# endings, malformed lines between them, and no newline at the end: every
# input line gives one output line, the prediction of its example or
# nothing; with --on-error skip the malformed ones give nothing too.
awk '{
  print
  if (NR % 7 == 0) print ""
  if (NR % 11 == 0) print "   \t"
  if (NR % 13 == 0) print "# a comment"
  if (NR % 17 == 0) print "+1 5:oops"
  if (NR % 19 == 0) print "-1 3:1 bad"
}' test.svm > messy.svm
sed -i '23s/$/\r/' messy.svm
printf '%s' "$(tail -1 test.svm)" >> messy.svm   # a last line without newline
# The expected output: the reference prediction for each example line,
# an empty line for every other line.
# The last (unterminated) line repeats test.svm's last example.
awk 'NR == FNR { ref[NR] = $0; next }
     /^[+-]1 [0-9]+:[0-9.]+( [0-9]+:[0-9.]+)*\r?$/ { print ref[++n]; next }
     { print "" }' <(cat ref.txt; tail -1 ref.txt) <(cat messy.svm; echo) > want.txt
run_cmd got.txt err grist-predict -i m.gsgd --on-error skip messy.svm
check_status "skip" 0 "$rc"
check_eq "line N of the output is about line N of the input" want.txt got.txt
check_eq "as many output lines as input lines" <(awk 'END { print NR }' messy.svm) <(wc -l < got.txt)
check_grep "skips counted" 'skipped [0-9]+ malformed examples \(first: messy.svm:[0-9]+: ' err
for j in 1 2; do
  grist-predict -j$j -i m.gsgd --on-error skip messy.svm test.svm -o two.txt 2>/dev/null
  check_eq "-j$j, two files: their lines in order" <(cat want.txt ref.txt) two.txt
done
# paste(1) lines inputs and predictions up.
paste -d'|' messy.svm got.txt | awk -F'|' '$1 ~ /^[+-]1 [0-9]+:[0-9.]+( [0-9]+:[0-9.]+)*\r?$/ && $2 == "" { bad = 1 } END { exit bad }' &&
  pass || fail "an example line got an empty prediction"

# Without skip, a malformed line is an error naming it; nothing is written.
run_cmd out err grist-predict -i m.gsgd messy.svm -o out.txt
check_status "fail" 1 "$rc"
check_grep "names the line" 'messy.svm:[0-9]+: ' err
check_no_file "no output" out.txt

# VW: tags stay on their lines; blank and malformed lines give empty lines.
printf "1 'a| x\n\n-1 'b| y\nno bar\n'c| x y\n" > t2.vw
grist-predict -i v.gsgd --on-error skip t2.vw > v.txt 2>/dev/null
check_eq "VW lines" <(printf 'a\n\nb\n\nc\n') <(awk '{ print $2 }' v.txt)
check_eq "VW line count" <(echo 5) <(wc -l < v.txt)

# Text: blank lines too.
printf '1\tcheap pills\n-1\tlunch at noon\n' > t.tsv
grist-train-sgd -q t.tsv -b 10 -f t.gsgd
printf '1\tcheap\n\n-1\tnoon\n' | grist-predict -i t.gsgd > tt.txt
check_eq "text lines" <(echo 3) <(wc -l < tt.txt)
check_eq "text blank line" <(echo) <(sed -n 2p tt.txt)

# Every line skipped: an error, not a file of empty lines.
printf '1 x\n-1 y\n' > allbad.svm
run_cmd out err grist-predict -i m.gsgd --on-error skip allbad.svm -o all.txt
check_status "all skipped" 1 "$rc"
check_grep "all skipped message" 'no valid example in the input \(2 malformed lines skipped' err
check_no_file "all skipped: no output" all.txt
# Blank input: no lines, no error.
run_cmd out err grist-predict -i m.gsgd /dev/null
check_status "empty input" 0 "$rc"
check_eq "empty input, empty output" /dev/null out

# -v: records (lines), input bytes (decompressed), examples.
zstd -q -f messy.svm -o messy.svm.zst
run_cmd out err grist-predict -v -i m.gsgd --on-error skip messy.svm.zst
lines=$(awk 'END { print NR }' messy.svm)
# The input bytes, decompressed (the missing last newline counts), as the
# summary prints them.
size=$(awk -v b=$(( $(wc -c < messy.svm) + 1 )) 'BEGIN { printf "%.1f KiB", b / 1024 }')
check_grep "-v records" "^grist-predict: $lines records, " err
check_grep "-v bytes" "records, $size in " err
check_grep "-v examples" "[0-9]+ examples, [0-9]+ skipped" err
size=$(awk -v b=$(wc -c < train.svm) 'BEGIN { printf "%.1f KiB", b / 1024 }')
run_cmd out err grist-train-sgd -v -j1 train.svm -b 12
check_grep "train -v" "^grist-train-sgd: 2000 records, $size in " err
check_no_temps "no temporaries" .
finish
