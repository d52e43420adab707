#!/usr/bin/env bash
# grist-serve's query parameters output, top_k and threshold: the answer is
# byte for byte grist-predict's with --output-type, --top-k, --threshold
# (binary and --oaa models, VW tags); a setting that does not fit is a 400
# naming it, and the server goes on.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/serve/serve_lib.bash"

make_data
grist-train-sgd -q -b 16 -f bin.gsgd data.svm
awk 'BEGIN { srand(5); for (i = 0; i < 900; i++) { c = int(rand() * 3) + 1;
  printf "%d '\''ex%d |f c%d_%d other%d\n", c, i, c, int(rand() * 5), int(rand() * 40) } }' > cls.vw
grist-train-sgd -q -b 16 --oaa 3 -f oaa.gsgd cls.vw

start_server log.txt -i bin.gsgd
for q in "output=label" "output=score" "output=label&threshold=0.8" "top_k=2" \
         "output=label&top_k=2" "output=prob"; do
  opts=$(echo "$q" | sed 's/output=/--output-type /; s/top_k=/--top-k /; s/threshold=/--threshold /; s/&/ /g')
  # shellcheck disable=SC2086
  grist-predict -i bin.gsgd data.svm $opts > want.txt
  http --data-binary @data.svm "localhost:$PORT/v1/predict?$q" > got.txt
  check_eq "binary ?$q" want.txt got.txt
done
http -o got.txt -w '%{http_code}\n' --data-binary @data.svm "localhost:$PORT/v1/predict?output=label&threshold=1.5" > code.txt
check_eq "threshold 1.5: 400" <(echo 400) code.txt
check_grep "threshold 1.5: says why" "threshold=1.5: a logistic model's threshold is a probability" got.txt
http -o got.txt -w '%{http_code}\n' --data-binary @data.svm "localhost:$PORT/v1/predict?toopk=2" > code.txt
check_eq "unknown parameter: 400" <(echo 400) code.txt
check_grep "unknown parameter: says which" "unknown query parameter 'toopk'" got.txt
stop_server
check_status "binary: exit after SIGTERM" 0 "$rc"

start_server log.txt -i oaa.gsgd
for q in "top_k=3" "output=label&top_k=2" "output=prob" "output=score"; do
  opts=$(echo "$q" | sed 's/output=/--output-type /; s/top_k=/--top-k /; s/&/ /g')
  # shellcheck disable=SC2086
  grist-predict -i oaa.gsgd cls.vw $opts > want.txt
  http --data-binary @cls.vw "localhost:$PORT/v1/predict?$q" > got.txt
  check_eq "oaa ?$q" want.txt got.txt
done
check_grep "oaa: tags follow the pairs" "^[123] 0\.[0-9]+ [123] 0\.[0-9]+ [123] 0\.[0-9e-]+ ex0$" \
  <(grist-predict -i oaa.gsgd cls.vw --top-k 3)
http -H 'Content-Type: application/json' --data-binary '{"instances": ["1 |f c1_0", ""]}' \
  "localhost:$PORT/v1/predict?output=label" > got.txt
check_eq "oaa JSON labels" <(echo '{"predictions":["1",null]}') got.txt
http -o got.txt -w '%{http_code}\n' --data-binary @cls.vw "localhost:$PORT/v1/predict?threshold=0.5" > code.txt
check_eq "oaa threshold: 400" <(echo 400) code.txt
check_grep "oaa threshold: says why" "threshold needs a binary model" got.txt
stop_server
check_status "oaa: exit after SIGTERM" 0 "$rc"
finish
