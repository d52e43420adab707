#!/usr/bin/env bash
# Partition directories are verified by every reader: each kind of damage
# (a part truncated, emptied, flipped, re-compressed with a record less or
# a value changed; the manifest's records, bytes, checksum, partition count
# or parts list edited; a part missing or added; _SUCCESS or the manifest
# missing, unreadable or from an older grist) makes every reader (merge to
# a directory, --single to a file, --partition to stdout) exit 1 with a
# message naming the part (or the manifest), and leaves no output.
. "$(dirname "$0")/../lib/common.sh"

awk 'BEGIN { for (i = 0; i < 1000; i++) print "k" i "\t" i }' > in.txt
# The writers: shuffle-sort -p, count -p, merge to a directory.
grist-shuffle-sort -p 4 -o good in.txt
awk -F'\t' '{ print $1 "\t1" }' in.txt | grist-count -p 4 -o counted
grist-merge good -o merged
for d in good counted merged; do
  check_grep "$d: checksum kind" '"checksum": "xxh3_64 of the uncompressed bytes"' $d/_manifest.json
  check_grep "$d: part fields" \
    '"file": "part-00001.zst", "records": [0-9]+, "bytes": [0-9]+, "uncompressed_bytes": [0-9]+, "xxh3_64": "[0-9a-f]{16}"' \
    $d/_manifest.json
  run_cmd all.txt e.txt grist-merge --single $d
  check_status "$d reads back" 0 "$rc"
  [ "$(wc -l < all.txt)" = 1000 ] && pass || fail "$d: $(wc -l < all.txt) records"
done
# The manifest's figures are those of the files.
for p in 0 1 2 3; do
  f=good/part-0000$p.zst
  line=$(grep "part-0000$p.zst" good/_manifest.json)
  [[ $line == *"\"records\": $(zstd -dc $f | wc -l),"* ]] && pass || fail "$f: records: $line"
  [[ $line == *"\"bytes\": $(stat -c %s $f),"* ]] && pass || fail "$f: bytes: $line"
  [[ $line == *"\"uncompressed_bytes\": $(zstd -dc $f | wc -c),"* ]] && pass ||
    fail "$f: uncompressed bytes: $line"
done

# field NAME PART: the manifest's value of a part's field.
field() { grep "part-0000$2.zst" bad/_manifest.json | sed -E "s/.*\"$1\": \"?([0-9a-f]+).*/\1/"; }
# set_field NAME PART VALUE
set_field() { sed -i -E "/part-0000$2.zst/s/\"$1\": (\"?)[0-9a-f]+/\"$1\": \1$3/" bad/_manifest.json; }
# recompress PART CMD: the part decompressed, through CMD, compressed again.
recompress() {
  zstd -dc bad/part-0000$1.zst | $2 | zstd -q > p.zst
  mv p.zst bad/part-0000$1.zst
}
sync_bytes() { set_field bytes "$1" "$(stat -c %s bad/part-0000$1.zst)"; }

# Each case: damage a copy of good/ ($1: name, $2: the message's pattern),
# then every reader must refuse it.
check_readers() {
  local name=$1 pattern=$2
  run_cmd o.txt e.txt grist-merge good bad -o out.d
  check_status "$name: merge to a directory" 1 "$rc"
  check_grep "$name: merge to a directory names it" "$pattern" e.txt
  check_no_file "$name: no output directory" out.d
  run_cmd o.txt e.txt grist-merge --single bad -o out.txt
  check_status "$name: --single -o" 1 "$rc"
  check_grep "$name: --single names it" "$pattern" e.txt
  check_no_file "$name: no --single output" out.txt
  run_cmd o.txt e.txt grist-merge --single --partition 1 --reduce sum bad good
  check_status "$name: --partition 1 --single to stdout" 1 "$rc"
  check_grep "$name: --partition names it" "$pattern" e.txt
}
fresh() { rm -rf bad && cp -r good bad; }

P='bad/part-00001\.zst'
fresh; f=bad/part-00001.zst; head -c $(( $(stat -c %s $f) / 2 )) $f > t && mv t $f
check_readers "part truncated" "$P"
fresh; printf '' | zstd -q > bad/part-00001.zst
check_readers "part replaced by an empty frame" "$P"
fresh; printf '' | zstd -q > bad/part-00001.zst; sync_bytes 1
check_readers "empty frame, manifest bytes edited to match" "^grist-merge: $P: holds 0 records where the manifest says [0-9]+"
fresh; f=bad/part-00001.zst
printf '\xff' | dd of=$f bs=1 seek=$(( $(stat -c %s $f) / 2 )) conv=notrunc status=none
check_readers "a byte flipped" "$P"
fresh; recompress 1 'sed 1d'
check_readers "a record removed, re-compressed" "^grist-merge: $P: is [0-9]+ bytes where the manifest says"
fresh; recompress 1 'sed 1d'; sync_bytes 1
check_readers "a record removed, re-compressed, bytes edited" "^grist-merge: $P: holds [0-9]+ records where"
fresh; recompress 1 "sed -E 1s/[0-9]\$/x/"; sync_bytes 1
check_readers "a value changed, re-compressed, bytes edited" "^grist-merge: $P: checksum mismatch"
fresh; zstd -dc good/part-00001.zst | zstd -q -19 > bad/part-00001.zst; sync_bytes 1
run_cmd o.txt e.txt grist-merge --single bad
check_status "the same records compressed otherwise are accepted" 0 "$rc"

fresh; set_field records 1 $(( $(field records 1) + 1 ))
check_readers "manifest records edited" "^grist-merge: $P: holds [0-9]+ records where the manifest says"
fresh; set_field bytes 1 $(( $(field bytes 1) - 1 ))
check_readers "manifest bytes edited" "^grist-merge: $P: is [0-9]+ bytes where the manifest says"
fresh; set_field uncompressed_bytes 1 $(( $(field uncompressed_bytes 1) + 1 ))
check_readers "manifest uncompressed bytes edited" "^grist-merge: $P: decompresses to [0-9]+ bytes"
fresh; set_field xxh3_64 1 0123456789abcdef
check_readers "manifest checksum edited" "^grist-merge: $P: checksum mismatch"
fresh; sed -i 's/"partitions": 4/"partitions": 5/' bad/_manifest.json
check_readers "manifest partition count raised" 'bad/_manifest\.json: lists 4 parts but has 5 partitions'
fresh; sed -i 's/"partitions": 4/"partitions": 3/' bad/_manifest.json
check_readers "manifest partition count lowered" 'bad/_manifest\.json: lists more parts than'
fresh; sed -i -e 's/"partitions": 4/"partitions": 3/' -e '/part-00003/d' -e '/part-00002/s/},$/}/' bad/_manifest.json
check_readers "a part dropped from a consistent manifest" \
  "^grist-merge: bad/part-00003\.zst: a part file the manifest \(bad/_manifest\.json\) does not list"
fresh; rm bad/part-00002.zst
check_readers "a part missing" "^grist-merge: bad/part-00002\.zst: missing part file"
fresh; cp bad/part-00001.zst bad/part-00004.zst
check_readers "an extra part" "^grist-merge: bad/part-00004\.zst: a part file the manifest"
fresh; rm bad/_SUCCESS
check_readers "_SUCCESS missing" "^grist-merge: bad: no _SUCCESS"
fresh; rm bad/_manifest.json
check_readers "manifest missing" "^grist-merge: bad/_manifest\.json: missing"
fresh; echo '{"tool": ' > bad/_manifest.json
check_readers "manifest unreadable" "^grist-merge: bad/_manifest\.json: cannot read the manifest"
fresh; sed -i -E -e '/"checksum"/d' -e 's/, "xxh3_64": "[0-9a-f]+"//' bad/_manifest.json
check_readers "a manifest of an older grist" \
  "^grist-merge: bad/_manifest\.json: no per-part checksums .*make the directory again"
fresh; sed -i -E '/part-00002/s/, "xxh3_64": "[0-9a-f]+"//' bad/_manifest.json
check_readers "a part without its checksum" \
  "^grist-merge: bad/_manifest\.json: part 2 has no \"xxh3_64\" checksum"

# Damage in a partition --partition does not read: not its business.
fresh; printf '' | zstd -q > bad/part-00002.zst; sync_bytes 2
run_cmd o.txt e.txt grist-merge --partition 1 --single bad
check_status "--partition reads only its part" 0 "$rc"
cmp -s o.txt <(zstd -dc good/part-00001.zst) && pass || fail "--partition 1 output"
run_cmd o.txt e.txt grist-merge --partition 4 good -o out.d
check_status "--partition beyond the count" 2 "$rc"
run_cmd o.txt e.txt grist-merge --partition 1 in.txt
check_status "--partition with files" 2 "$rc"
grist-merge --partition 2 good counted -o p2.d
run_cmd o.txt e.txt grist-merge --partition 2 good bad -o p2bad.d  # part 2 of bad emptied
check_status "--partition to a directory" 1 "$rc"
check_no_file "no --partition output" p2bad.d
for p in 0 1 3; do [ "$(zstd -dc p2.d/part-0000$p.zst | wc -c)" = 0 ] && pass || fail "p2.d: part $p"; done
cmp -s <(zstd -dc p2.d/part-00002.zst) <(grist-merge --single --partition 2 good counted) && pass ||
  fail "--partition 2 to a directory"
check_no_temps verify "$WORK"
finish
