#!/bin/bash
# grist-tokenize on small crafted inputs: whole outputs compared.
. "$(dirname "$0")/../lib/common.sh"

printf 'Hello, world! Don'\''t stop.\nIt costs 3.14 (naïve) 東京\n\n   \nlast line' >in.txt

printf 'Hello\nworld\nDon'\''t\nstop\nIt\ncosts\n3.14\nnaïve\n東京\nlast\nline\n' >want
grist-tokenize in.txt >got
check_eq "default word mode" want got

printf 'Hello\t1\nworld\t1\nDon'\''t\t1\nstop\t1\nIt\t1\ncosts\t1\n3.14\t1\nnaïve\t1\n東京\t1\nlast\t1\nline\t1\n' >want
grist-tokenize --pairs <in.txt >got
check_eq "--pairs from stdin" want got

printf 'Hello,\nworld!\nDon'\''t\nstop.\nIt\ncosts\n3.14\n(naïve)\n東京\nlast\nline\n' >want
grist-tokenize --mode whitespace - <in.txt >got
check_eq "--mode whitespace" want got

# Bigrams stay within a line; 1-2 lists each start position's sizes.
printf 'hello world\nworld don'\''t\ndon'\''t stop\nit costs\ncosts 3.14\n3.14 naïve\nnaïve 東京\nlast line\n' >want
grist-tokenize --lower --ngrams 2 in.txt >got
check_eq "--ngrams 2 --lower" want got
printf 'a b c\nd\n' | grist-tokenize --ngrams 1-2 >got
printf 'a\na b\nb\nb c\nc\nd\n' >want
check_eq "--ngrams 1-2" want got

# Unicode case folding.
printf 'Straße ΣΑΣ ÉCOLE İstanbul ﬃ\n' | grist-tokenize --lower >got
printf 'strasse\nσασ\nécole\ni̇stanbul\nffi\n' >want
check_eq "--lower non-ASCII" want got

# Lengths in code points, after folding.
printf 'a bb ccc dddd ééé\n' | grist-tokenize --min-length 2 --max-length 3 >got
printf 'bb\nccc\nééé\n' >want
check_eq "--min-length/--max-length" want got

# Stopwords, folded like the tokens with --lower.
printf 'The\nAND\n' >stop.txt
printf 'The cat and THE dog\n' | grist-tokenize --lower --stopwords stop.txt >got
printf 'cat\ndog\n' >want
check_eq "--stopwords --lower" want got
printf 'The cat and THE dog\n' | grist-tokenize --stopwords stop.txt >got
printf 'cat\nand\nTHE\ndog\n' >want
check_eq "--stopwords without --lower" want got

# Options and usage.
run_cmd out err grist-tokenize --help
check_status "--help" 0 "$rc"
check_grep "--help lists --json-field" '--json-field' out
run_cmd out err grist-tokenize --json-feild text in.txt
check_status "unknown option" 2 "$rc"
check_grep "did you mean" "did you mean '--json-field'" err
run_cmd out err grist-tokenize --ngrams 0 in.txt
check_status "--ngrams 0" 2 "$rc"
run_cmd out err grist-tokenize --mode chars in.txt
check_status "--mode chars" 2 "$rc"
run_cmd out err grist-tokenize --json-field text --column 2 in.txt
check_status "--json-field with --column" 2 "$rc"
run_cmd out err grist-tokenize --json-field a..b in.txt
check_status "bad JSON path" 2 "$rc"
run_cmd out err grist-tokenize --stopwords missing.txt in.txt
check_status "missing stopword file" 1 "$rc"
check_grep "names the stopword file" 'missing.txt' err

# -v summary.
run_cmd out err grist-tokenize -v in.txt
check_status "-v" 0 "$rc"
check_grep "-v summary" '^grist-tokenize: 5 records, .* 11 tokens, 0 invalid UTF-8 bytes, 0 skipped records' err

finish
