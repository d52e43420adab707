#!/bin/bash
# grist-predict --output-type prob|label|score, --top-k and --threshold for
# every loss, checked against scores computed here from the readable model
# (awk), whole outputs compared; the defaults stay what they were; -j1 and
# -j2, stdin and file agree; combinations that make no sense are usage
# errors (exit 2, a message, no output file).
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/train-sgd/gen_data.bash"

gen_predict_sets

for l in logistic hinge squared quantile; do
  data=train.svm
  case $l in squared|quantile) data=reg.svm ;; esac
  grist-train-sgd -q -j1 -b 12 --loss "$l" "$data" -f "$l.gsgd" --readable-model "$l.txt"
done
grist-train-sgd -q -j1 -b 12 --oaa 3 oaa.svm -f oaa.gsgd --readable-model oaa.txt
grist-train-sgd -q -j1 -b 12 --oaa 3 --loss hinge oaa.svm -f oaah.gsgd --readable-model oaah.txt

# scores READABLE INPUT: per input line the score, or with --oaa the K
# class scores, from the readable model's weights.
scores() {
  awk -F'\t' -v OFS=' ' '
    FNR == NR { if ($0 ~ /^#/) { if ($0 ~ /^# oaa=/) K = substr($0, 7) + 0; next }
                if (K) w[$1 " " $2] = $3; else w[$1 " 1"] = $2; next }
    { n = K ? K : 1; split($0, f, " "); line = ""
      for (k = 1; k <= n; k++) {
        s = w["bias " k] + 0
        for (i = 2; i in f; i++) { split(f[i], iv, ":"); s += w[iv[1] " " k] * iv[2] }
        line = line (k > 1 ? " " : "") sprintf("%.9g", s)
      }
      print line }' "$1" "$2"
}
# close A B: the two files hold the same numbers, within 1e-5 (relative).
close() {
  cat "$2" > close.a
  cat "$3" > close.b
  if [ "$(wc -l < close.a)" = "$(wc -l < close.b)" ] &&
    paste -d' ' close.a close.b | awk '{ n = NF / 2; for (i = 1; i <= n; i++) { a = $i; b = $(i + n)
      d = a - b; if (d < 0) d = -d; m = (a < 0 ? -a : a); if (m < 1) m = 1
      if (d > 1e-5 * m) { print "line " NR ": " a " vs " b; exit 1 } } }' >&2; then
    pass
  else
    fail "$1: numbers differ"
  fi
}

# --- binary logistic ---
scores logistic.txt test.svm > want.score
grist-predict -i logistic.gsgd test.svm > def.txt
grist-predict -i logistic.gsgd test.svm --output-type prob > prob.txt
grist-predict -i logistic.gsgd test.svm --output-type score > score.txt
grist-predict -i logistic.gsgd test.svm --output-type label > label.txt
check_eq "logistic: the default is prob" def.txt prob.txt
close "logistic: score" want.score score.txt
close "logistic: prob = sigmoid(score)" <(awk '{ printf "%.9g\n", 1 / (1 + exp(-$1)) }' want.score) prob.txt
check_eq "logistic: label = prob >= 0.5" <(awk '{ print ($1 >= 0.5 ? 1 : -1) }' prob.txt) label.txt
grist-predict -i logistic.gsgd test.svm --output-type label --threshold 0.8 > label8.txt
check_eq "logistic: --threshold 0.8" <(awk '{ print ($1 >= 0.8 ? 1 : -1) }' prob.txt) label8.txt
grist-predict -i logistic.gsgd test.svm --threshold 0.8 > prob8.txt
check_eq "logistic: --threshold leaves prob alone" prob.txt prob8.txt
grist-predict -i logistic.gsgd test.svm --top-k 2 > top2.txt
check_eq "logistic: --top-k 2 names" \
  <(awk '{ print ($1 >= 0.5 ? "1 -1" : "-1 1") }' prob.txt) <(awk '{ print $1, $3 }' top2.txt)
check_eq "logistic: --top-k 2: P(+1) as prob prints it" \
  prob.txt <(awk '{ print ($1 == "1" ? $2 : $4) }' top2.txt)
close "logistic: --top-k 2 sums to 1" <(awk '{ print 1 }' top2.txt) <(awk '{ printf "%.9g\n", $2 + $4 }' top2.txt)
grist-predict -i logistic.gsgd test.svm --top-k 1 > top1.txt
check_eq "logistic: --top-k 1 is the first pair" <(awk '{ print $1, $2 }' top2.txt) top1.txt
grist-predict -i logistic.gsgd test.svm --top-k 5 --output-type label > top5l.txt
check_eq "logistic: --top-k 5 --output-type label: both names" <(awk '{ print $1, $3 }' top2.txt) top5l.txt
# Threads and stdin change nothing.
for opts in "--output-type label" "--output-type score" "--top-k 2" "--output-type label --threshold 0.3"; do
  # shellcheck disable=SC2086
  grist-predict -j1 -i logistic.gsgd test.svm $opts -o j1.txt
  # shellcheck disable=SC2086
  grist-predict -j2 -i logistic.gsgd $opts < test.svm > j2.txt
  check_eq "logistic $opts: -j1 file = -j2 stdin" j1.txt j2.txt
done

# --- hinge ---
scores hinge.txt test.svm > want.score
grist-predict -i hinge.gsgd test.svm > def.txt
grist-predict -i hinge.gsgd test.svm --output-type score > score.txt
grist-predict -i hinge.gsgd test.svm --output-type label > label.txt
check_eq "hinge: the default is the score" def.txt score.txt
close "hinge: score" want.score score.txt
check_eq "hinge: label = score >= 0" <(awk '{ print ($1 >= 0 ? 1 : -1) }' score.txt) label.txt
grist-predict -i hinge.gsgd test.svm --output-type label --threshold -0.25 > labelt.txt
check_eq "hinge: --threshold -0.25" <(awk '{ print ($1 >= -0.25 ? 1 : -1) }' score.txt) labelt.txt
grist-predict -i hinge.gsgd test.svm --output-type label --top-k 2 > top2.txt
check_eq "hinge: --top-k 2 --output-type label" \
  <(awk '{ print ($1 >= 0 ? "1 -1" : "-1 1") }' score.txt) top2.txt

# --- squared and quantile ---
for l in squared quantile; do
  scores "$l.txt" regt.svm > want.score
  grist-predict -i "$l.gsgd" regt.svm > def.txt
  grist-predict -i "$l.gsgd" regt.svm --output-type score > score.txt
  check_eq "$l: the default is the score" def.txt score.txt
  close "$l: score" want.score score.txt
  grist-predict -j2 -i "$l.gsgd" --output-type score < regt.svm > j2.txt
  check_eq "$l: -j2 stdin" score.txt j2.txt
done

# --- --oaa ---
scores oaa.txt oaat.svm > want.scores
# The best class (the first of equal scores), its score, the ranking.
awk '{ b = 1; for (k = 2; k <= NF; k++) if ($k > $b) b = k; print b }' want.scores > want.label
grist-predict -i oaa.gsgd oaat.svm > def.txt
grist-predict -i oaa.gsgd oaat.svm --output-type label > label.txt
grist-predict -i oaa.gsgd oaat.svm --output-type score > score.txt
grist-predict -i oaa.gsgd oaat.svm --output-type prob > prob.txt
grist-predict -i oaa.gsgd oaat.svm --top-k 3 > top3.txt
check_eq "oaa: the default is the label" def.txt label.txt
check_eq "oaa: label = the best class" want.label label.txt
close "oaa: score = the best class's" \
  <(awk '{ m = $1; for (k = 2; k <= NF; k++) if ($k > m) m = $k; print m }' want.scores) score.txt
# P(k) = sigmoid(s_k) / sum_j sigmoid(s_j), VW's --oaa --probabilities.
awk '{ t = 0; for (k = 1; k <= NF; k++) { p[k] = 1 / (1 + exp(-$k)); t += p[k] }
       for (k = 1; k <= NF; k++) printf "%s%d %.9g", (k > 1 ? " " : ""), k, p[k] / t; print "" }' \
  want.scores > want.probs
close "oaa: prob = P(the best class)" \
  <(paste -d' ' want.label want.probs | awk '{ print $(2 * $1 + 1) }') prob.txt
check_eq "oaa: --top-k 3 ranks the classes" \
  <(awk '{ for (k = 1; k <= NF; k += 2) printf "%s%s %s\n", "", $k, $(k + 1) }' want.probs |
    paste -d' ' - - - | awk '{ # sort the three pairs by probability, descending, stable
      for (i = 1; i <= 3; i++) { c[i] = $(2 * i - 1); q[i] = $(2 * i) }
      for (i = 1; i <= 3; i++) for (j = 1; j < 3; j++) if (q[j + 1] > q[j]) {
        t = q[j]; q[j] = q[j + 1]; q[j + 1] = t; t = c[j]; c[j] = c[j + 1]; c[j + 1] = t }
      print c[1], c[2], c[3] }') \
  <(awk '{ print $1, $3, $5 }' top3.txt)
check_eq "oaa: --top-k 3: the first pair is the label and prob" \
  <(paste -d' ' label.txt prob.txt) <(awk '{ print $1, $2 }' top3.txt)
close "oaa: --top-k 3 sums to 1" <(awk '{ print 1 }' top3.txt) <(awk '{ printf "%.9g\n", $2 + $4 + $6 }' top3.txt)
grist-predict -i oaa.gsgd oaat.svm --top-k 9 > top9.txt
check_eq "oaa: --top-k above the classes gives them all" top3.txt top9.txt
grist-predict -i oaa.gsgd oaat.svm --top-k 2 --output-type label > top2l.txt
check_eq "oaa: --top-k 2 --output-type label" <(awk '{ print $1, $3 }' top3.txt) top2l.txt
for opts in "--output-type prob" "--output-type score" "--top-k 3"; do
  # shellcheck disable=SC2086
  grist-predict -j1 -i oaa.gsgd oaat.svm $opts -o j1.txt
  # shellcheck disable=SC2086
  grist-predict -j2 -i oaa.gsgd $opts < oaat.svm > j2.txt
  check_eq "oaa $opts: -j1 file = -j2 stdin" j1.txt j2.txt
done
grist-predict -i oaah.gsgd oaat.svm --top-k 3 --output-type label > h3.txt
scores oaah.txt oaat.svm | awk '{ b = 1; for (k = 2; k <= NF; k++) if ($k > $b) b = k; print b }' > want.hlabel
check_eq "hinge oaa: --top-k ranks by score" want.hlabel <(awk '{ print $1 }' h3.txt)

# VW tags follow whatever the line shows; unlabelled lines predict.
awk 'BEGIN { srand(5); for (i = 0; i < 600; i++) { c = int(rand() * 3) + 1;
  printf "%d '\''ex%d |f c%d_%d other%d\n", c, i, c, int(rand() * 5), int(rand() * 40) } }' > cls.vw
grist-train-sgd -q -j1 --oaa 3 cls.vw --passes 2 -f vw.gsgd
printf '| c1_2 other3\n2 '\''t2 |f c2_1\n\n' > few.vw
# f is the namespace: "| c1_2" is another feature than "|f c1_2"; fine.
run_cmd out err grist-predict -i vw.gsgd --top-k 2 few.vw
check_status "vw top-k" 0 "$rc"
check_grep "vw top-k: pairs then the tag" "^2 0\.[0-9]+ [13] 0\.[0-9]+ t2$" out
check_eq "vw top-k: one line per input line" <(echo 3) <(wc -l < out)
check_eq "vw top-k: empty line for the blank one" <(echo) <(sed -n 3p out)

# --- usage errors: exit 2, a message, no output file ---
bad() {  # bad NAME PATTERN ARGS...
  local name=$1 pattern=$2; shift 2
  rm -f o.txt mj.json
  run_cmd out err grist-predict "$@" -o o.txt --metrics-json mj.json
  check_status "$name" 2 "$rc"
  check_grep "$name: message" "$pattern" err
  check_no_file "$name: no output" o.txt
  check_no_file "$name: no JSON" mj.json
}
bad "hinge prob" 'prob is probabilities, which need a logistic model \(this is a hinge model\)' \
  -i hinge.gsgd test.svm --output-type prob
bad "squared label" 'label needs a classifier' -i squared.gsgd regt.svm --output-type label
bad "quantile prob" 'use --output-type score' -i quantile.gsgd regt.svm --output-type prob
bad "squared top-k" '--top-k needs classes' -i squared.gsgd regt.svm --top-k 2
bad "oaa threshold" '--threshold needs a binary model' -i oaa.gsgd oaat.svm --threshold 0.5
bad "squared threshold" '--threshold needs a binary model' -i squared.gsgd regt.svm --threshold 1
bad "threshold above 1" "--threshold 1.5: a logistic model's threshold is a probability" \
  -i logistic.gsgd test.svm --threshold 1.5
bad "threshold and top-k" '--threshold and --top-k' -i logistic.gsgd test.svm --threshold 0.5 --top-k 2
bad "top-k scores" 'not scores' -i oaa.gsgd oaat.svm --top-k 2 --output-type score
bad "hinge oaa top-k prob" 'names alone' -i oaah.gsgd oaat.svm --top-k 2
bad "top-k 0" "--top-k" -i oaa.gsgd oaat.svm --top-k 0
bad "unknown type" "--output-type" -i oaa.gsgd oaat.svm --output-type probability
bad "threshold NaN" "--threshold" -i logistic.gsgd test.svm --threshold nan
# --output is -o: "--output label" would write a file named label.
for type in prob label score; do
  run_cmd out err grist-predict -i logistic.gsgd test.svm --output "$type"
  check_status "--output $type" 2 "$rc"
  check_grep "--output $type: message" "give --output-type $type \(a file of that name: -o \./$type\)" err
  check_no_file "--output $type: no file" "$type"
done
run_cmd out err grist-predict -i logistic.gsgd test.svm -o ./label
check_status "-o ./label" 0 "$rc"
check_eq "-o ./label: the predictions" <(grist-predict -i logistic.gsgd test.svm) label
rm -f label
check_no_temps "no temporaries" .
finish
