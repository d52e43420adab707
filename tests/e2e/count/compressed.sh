#!/usr/bin/env bash
# Plain, gzip, zstd, bzip2 and xz inputs give the same counts; .zst, .gz,
# .bz2 and .xz outputs decode to them. (Every program: tests/e2e/codecs.)
. "$(dirname "$0")/../lib/common.sh"

awk 'BEGIN { for (i = 0; i < 50000; i++) print "key" (i * 7919) % 3001 }' > in.txt
gzip -c in.txt > in.gz
zstd -q -c in.txt > in.zst
grist-count in.txt > plain.txt
grist-count in.gz > gz.txt
grist-count in.zst > zst.txt
check_eq "gzip input" plain.txt gz.txt
check_eq "zstd input" plain.txt zst.txt
cat in.gz in.gz > twice.gz   # multi-member gzip
grist-count in.txt in.txt > twice-plain.txt
grist-count twice.gz > twice-gz.txt
check_eq "multi-member gzip" twice-plain.txt twice-gz.txt
grist-count - < in.zst > stdin.txt
check_eq "stdin" plain.txt stdin.txt
grist-count -o out.zst in.txt
zstd -dc out.zst > out.txt
check_eq "zstd output" plain.txt out.txt
grist-count -o out.gz in.txt
gzip -dc out.gz > out2.txt
check_eq "gzip output" plain.txt out2.txt
for codec in bzip2 xz; do
  ext=$([ $codec = bzip2 ] && echo bz2 || echo xz)
  $codec -c in.txt > in.$ext
  grist-count in.$ext > $codec.txt
  check_eq "$codec input" plain.txt $codec.txt
  cat in.$ext in.$ext > twice.$ext   # two streams
  grist-count twice.$ext > twice-$codec.txt
  check_eq "multi-stream $codec" twice-plain.txt twice-$codec.txt
  grist-count - < in.$ext > stdin-$codec.txt
  check_eq "$codec on stdin" plain.txt stdin-$codec.txt
  grist-count -o out.$ext in.txt
  $codec -dc out.$ext > out-$codec.txt
  check_eq "$codec output" plain.txt out-$codec.txt
done
check_no_temps compressed "$WORK"
finish
