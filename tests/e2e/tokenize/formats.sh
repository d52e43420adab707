#!/bin/bash
# Plain, gzip and zstd inputs give the same tokens; several files are read
# in order; a .zst output decompresses to the plain output.
. "$(dirname "$0")/../lib/common.sh"

for i in $(seq 1 3000); do echo "Line $i of the text, with café and naïve words."; done >a.txt
printf 'second file\nends without newline' >b.txt
gzip -c a.txt >a.txt.gz
zstd -q -c a.txt >a.txt.zst
cp a.txt.zst renamed.txt   # recognised by content, not name

grist-tokenize a.txt b.txt >plain
grist-tokenize a.txt.gz b.txt >gz
grist-tokenize a.txt.zst b.txt >zst
grist-tokenize renamed.txt b.txt >renamed
cat a.txt b.txt | grist-tokenize >stdin
check_eq "gzip input" plain gz
check_eq "zstd input" plain zst
check_eq "zstd input under another name" plain renamed
check_eq "stdin" plain stdin
# The last line of b.txt has no newline: its tokens still come out.
tail -2 plain >got
printf 'without\nnewline\n' >want
check_eq "last line without newline" want got

grist-tokenize -o out.zst a.txt b.txt
zstd -q -d -c out.zst >out.plain
check_eq "-o .zst output" plain out.plain
grist-tokenize --zstd -o out.bin a.txt b.txt
zstd -q -d -c out.bin >out.plain
check_eq "--zstd output" plain out.plain
grist-tokenize -o out.gz a.txt b.txt
gzip -d -c out.gz >out.plain
check_eq "-o .gz output" plain out.plain
check_no_temps "no temporaries" .

finish
