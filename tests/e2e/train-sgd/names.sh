#!/bin/bash
# --readable-model names the features: index, weight, name per line.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/train-sgd/gen_data.bash"

# Text: words and bigrams by name.
printf '1\tcheap pills now\n0\tmeeting at noon\n1\tcheap watches\n0\tnoon lunch meeting\n' > t.tsv
run_cmd out err grist-train-sgd -q --ngrams 2 -b 16 t.tsv --readable-model r1.txt
check_status "text" 0 "$rc"
check_grep "columns line" '^# columns=index	weight	name$' r1.txt
check_grep "a word" '^[0-9]+	[-0-9.e]+	cheap$' r1.txt
check_grep "a bigram" '^[0-9]+	[-0-9.e]+	noon lunch$' r1.txt
check_grep "bias named" '^bias	[-0-9.e]+	bias$' r1.txt
awk -F'\t' '!/^#/ && NF != 3 { bad = 1 } END { exit bad }' r1.txt && pass || fail "a weight line without 3 columns"
check_eq "15 features and the bias" <(grep -vc '^#' r1.txt) <(echo 16)
grist-train-sgd -q -j1 --ngrams 2 -b 16 t.tsv --readable-model r2.txt
check_eq "-j1 names reproducible" r1.txt r2.txt

# VW: namespaces and quadratic features. (--quadratic takes one pair: the
# file after it is an input, not a second pair.)
printf '1 |a x y |b z\n-1 |a y |b w\n' > q.vw
grist-train-sgd -q -b 16 --quadratic ab q.vw --readable-model rq.txt
check_grep "ns^feature" '	a\^x$' rq.txt
check_grep "quadratic" '	a\^x\*b\^z$' rq.txt

# svmlight: the index; the name of what collided first.
gen_svm 300 1 > train.svm
grist-train-sgd -q train.svm -b 12 --readable-model rs.txt
awk -F'\t' '!/^#/ && $1 != "bias" && $1 != $3 { bad = 1 } END { exit bad }' rs.txt && pass ||
  fail "svmlight names are not their indices"

# --oaa: index, class, weight, name.
printf '1 | red\n2 | green\n3 | blue\n' > c.vw
grist-train-sgd -q --oaa 3 -b 10 c.vw --readable-model rc.txt
check_grep "oaa columns" '^# columns=index	class	weight	name$' rc.txt
check_grep "oaa line" '^[0-9]+	[123]	[-0-9.e]+	green$' rc.txt

# -i: indices trained before but not seen now have an empty name.
grist-train-sgd -q -b 16 t.tsv -f m.gsgd
printf '1\tcheap\n' > one.tsv
grist-train-sgd -q -i m.gsgd one.tsv --readable-model ri.txt
check_grep "seen now: named" '	cheap$' ri.txt
check_grep "not seen now: empty name" '^[0-9]+	[-0-9.e]+	$' ri.txt
check_no_temps "no temporaries" .
finish
