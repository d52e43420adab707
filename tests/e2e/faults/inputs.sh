#!/usr/bin/env bash
# A bad input in the middle of a file list (missing, a directory, a
# truncated zstd, bzip2 or xz file, a corrupt gzip, bzip2 or xz file, a
# bzip2 or xz stream followed by garbage), for every program that reads
# files: exit status 1, a message naming that input, the previous output
# untouched, no temporary file left.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/faults/faults.bash"

printf 'b\t1\na\t2\nc\t3\n' > good.txt
LC_ALL=C sort good.txt > sorted.txt
printf '1 1:1 2:1\n-1 3:1\n' > good.svm
mkdir adir
# Sorted, so that merge reaches the damage before any disorder.
seq 1 50000 | awk '{ print "k" $1 "\t1" }' | sort > whole.txt
zstd -q -c whole.txt > whole.zst
head -c $(( $(stat -c %s whole.zst) / 2 )) whole.zst > truncated.zst
printf 'hello\n' | gzip -c > bad.gz
printf '\xff\xff' | dd of=bad.gz bs=1 seek=12 conv=notrunc 2>/dev/null
# corrupt BYTES FILE: FILE with two bytes in its middle flipped.
corrupt() {
  cp "$1" "$2"
  local at=$(( $(stat -c %s "$1") / 2 ))
  printf '\x55\xaa' | dd of="$2" bs=1 seek=$at conv=notrunc 2>/dev/null
}
bzip2 -c whole.txt > whole.bz2
xz -c whole.txt > whole.xz
head -c $(( $(stat -c %s whole.bz2) / 2 )) whole.bz2 > truncated.bz2
head -c $(( $(stat -c %s whole.xz) / 2 )) whole.xz > truncated.xz
corrupt whole.bz2 corrupt.bz2
corrupt whole.xz corrupt.xz
{ bzip2 -c good.txt; echo "garbage after the stream"; } > garbage.bz2
{ xz -c good.txt; echo "garbage after the stream"; } > garbage.xz
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

for bad in missing.txt adir truncated.zst bad.gz truncated.bz2 truncated.xz corrupt.bz2 \
           corrupt.xz garbage.bz2 garbage.xz; do
  case $bad in
    missing.txt) pat='No such file' ;;
    adir) pat='directory' ;;
    truncated.*) pat='truncated|corrupt' ;;
    bad.gz) pat='corrupt|gzip|invalid|incorrect' ;;
    # A bzip2 block's checksum comes after its data: merge may find the
    # damaged lines out of order first.
    corrupt.bz2) pat='corrupt bzip2|disorder' ;;
    corrupt.xz) pat='corrupt xz' ;;
    garbage.bz2) pat='trailing garbage' ;;
    garbage.xz) pat='corrupt xz' ;;
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
