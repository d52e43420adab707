#!/usr/bin/env bash
# A bad input in the middle of a file list (missing, a directory, a
# truncated zstd file, a corrupt gzip file), for every program that reads
# files: exit status 1, a message naming that input, the previous output
# untouched, no temporary file left.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"

printf 'b\t1\na\t2\nc\t3\n' > good.txt
LC_ALL=C sort good.txt > sorted.txt
printf '1 1:1 2:1\n-1 3:1\n' > good.svm
mkdir adir
seq 1 50000 | awk '{ print "k" $1 "\t1" }' | zstd -q -c > whole.zst
head -c 20000 whole.zst > truncated.zst
printf 'hello\n' | gzip -c > bad.gz
printf '\xff\xff' | dd of=bad.gz bs=1 seek=12 conv=notrunc 2>/dev/null
grist-train-sgd -q -b 8 -f model.bin good.svm
mkdir out && save_previous out/prev.txt

# check NAME BAD_INPUT PATTERN CMD...: CMD fails on BAD_INPUT.
check() {
  local name=$1 bad=$2 pat=$3; shift 3
  run_cmd o.txt e.txt "$@"
  check_failed "$name" "$rc" e.txt "$pat"
  check_grep "$name: names $bad" "$bad" e.txt
  check_untouched "$name" out/prev.txt
  check_clean "$name" out .
}

for bad in missing.txt adir truncated.zst bad.gz; do
  case $bad in
    missing.txt) pat='No such file' ;;
    adir) pat='directory' ;;
    truncated.zst) pat='truncated|corrupt' ;;
    bad.gz) pat='corrupt|gzip|invalid|incorrect' ;;
  esac
  check "count $bad" $bad "$pat" grist-count -o out/prev.txt good.txt $bad good.txt
  check "count -p $bad" $bad "$pat" grist-count -p 2 -o out/parts good.txt $bad good.txt
  check "shuffle-sort $bad" $bad "$pat" grist-shuffle-sort -o out/prev.txt good.txt $bad good.txt
  check "shuffle-sort --random $bad" $bad "$pat" \
    grist-shuffle-sort --random -o out/prev.txt good.txt $bad good.txt
  # (A directory among merge's files: see regressions.sh.)
  [ $bad = adir ] || check "merge $bad" $bad "$pat" grist-merge -o out/prev.txt sorted.txt $bad sorted.txt
  check "tokenize $bad" $bad "$pat" grist-tokenize -o out/prev.txt good.txt $bad good.txt
  check "train-sgd $bad" $bad "$pat" grist-train-sgd -q -b 8 -f out/prev.txt good.svm $bad good.svm
  check "predict $bad" $bad "$pat" grist-predict -i model.bin -o out/prev.txt good.svm $bad good.svm
done
check "predict missing model" nomodel.bin 'No such file' \
  grist-predict -i nomodel.bin -o out/prev.txt good.svm
check "train-sgd -i missing model" nomodel.bin 'No such file' \
  grist-train-sgd -q -i nomodel.bin -f out/prev.txt good.svm
check "merge missing directory" nodir 'No such file|not' \
  grist-merge -o out/prev.txt sorted.txt nodir/
finish
