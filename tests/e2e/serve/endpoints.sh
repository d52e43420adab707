#!/usr/bin/env bash
# grist-serve with curl and Python's http.client as clients: every endpoint,
# plain, gzip and zstd bodies, line and JSON bodies; the answer to a body of
# lines is byte for byte grist-predict's, for svmlight, VW (tags, missing
# labels) and text models trained here; every response names the model.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/serve/serve_lib.bash"

make_data
grep -E '^-?1 ' data.vw > train.vw
grist-train-sgd -q -b 18 -f svm.gsgd data.svm
grist-train-sgd -q --format vw -b 18 -f vw.gsgd train.vw
grist-train-sgd -q --format text -b 18 --ngrams 2 -f txt.gsgd data.txt

for m in svm:data.svm vw:data.vw txt:data.txt; do
  model=${m%%:*}.gsgd data=${m#*:}
  grist-predict -i "$model" "$data" > want.txt
  start_server log.txt -i "$model" -j 2
  http --data-binary @"$data" "localhost:$PORT/v1/predict" > got.txt
  check_eq "$model: plain body" want.txt got.txt
  gzip -c "$data" | http -H 'Content-Encoding: gzip' --data-binary @- "localhost:$PORT/v1/predict" > got.txt
  check_eq "$model: gzip body" want.txt got.txt
  if command -v zstd >/dev/null; then
    zstd -q -c "$data" | http -H 'Content-Encoding: zstd' --data-binary @- \
      "localhost:$PORT/v1/predict" > got.txt
    check_eq "$model: zstd body" want.txt got.txt
  else
    skip_part "zstd is not installed"
  fi
  # A body without its last newline: the same answer.
  head -c -1 "$data" | http --data-binary @- "localhost:$PORT/v1/predict" > got.txt
  check_eq "$model: no final newline" want.txt got.txt
  # curl's own headers: the hash names the model file.
  http -D head.txt -o /dev/null "localhost:$PORT/healthz"
  check_grep "$model: X-Grist-Model" "^X-Grist-Model: [0-9a-f]{16}" head.txt
  if python3 "$CLIENT" endpoints "$PORT" "$data" want.txt; then pass; else fail "$model: http.client"; fi
  stop_server
  check_status "$model: exit after SIGTERM" 0 "$rc"
done

# The JSON example of the man page, with curl.
start_server log.txt -i txt.gsgd
http -H 'Content-Type: application/json' \
  -d '{"instances": ["1\tword1 word2", "-1\tword3 word4"]}' "localhost:$PORT/v1/predict" > got.json
check_grep "JSON answer" '^\{"predictions":\[[0-9.e-]+,[0-9.e-]+\]\}$' got.json
http -o /dev/null -w '%{http_code}\n' -X POST --data-binary $'spam\tnot a label of this model' "localhost:$PORT/v1/predict" > code.txt
check_grep "bad example: 400" '^400$' code.txt
http -o /dev/null -w '%{http_code}\n' "localhost:$PORT/readyz" > code.txt
check_grep "readyz" '^200$' code.txt
stop_server
check_status "exit after SIGTERM" 0 "$rc"

# A model that cannot be loaded: exit 1, no listening.
echo "not a model" > bad.gsgd
set +e; timeout 10 grist-serve -p 0 -i bad.gsgd 2> err.txt; rc=$?; set -e
check_status "bad model at start" 1 "$rc"
check_grep "bad model at start: message" "^grist-serve: bad.gsgd: " err.txt
finish
