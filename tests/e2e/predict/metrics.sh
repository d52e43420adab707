#!/bin/bash
# grist-predict --metrics (the summary line, then the table) and
# --metrics-json (parsed with python3), recomputed here from the labels and
# the predictions: per-class precision, recall, F1, support, the averages,
# the confusion matrix, logloss, AUC, RMSE, MAE; -j1 = -j2, stdin = file;
# unlabelled input; where the JSON may go; no JSON after an error.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/train-sgd/gen_data.bash"
command -v python3 > /dev/null || skip "python3 is needed to read the JSON"

gen_predict_sets
grist-train-sgd -q -j1 -b 12 -l 0.05 train.svm -f logistic.gsgd
grist-train-sgd -q -j1 -b 12 --loss hinge train.svm -f hinge.gsgd
grist-train-sgd -q -j1 -b 12 --loss squared reg.svm -f squared.gsgd
grist-train-sgd -q -j1 -b 12 --loss quantile --quantile-tau 0.3 reg.svm -f quantile.gsgd
grist-train-sgd -q -j1 -b 12 --oaa 3 oaa.svm -f oaa.gsgd

# check_metrics NAME KIND TRUTH PRED EXTRA JSON STDERR: recomputes the
# metrics from the true labels (TRUTH: one per line), the predictions
# (PRED: labels for a classifier, scores for regression) and EXTRA
# ("P(+1) SCORE" for logistic, scores for hinge, "NAME PROB" pairs for
# probabilities for --oaa; "-" for none), and checks JSON and the text
# on STDERR, the table whole.
check_metrics() {
  if python3 - "$@" > py.out 2>&1 <<'EOF'
import json, math, sys
name, kind, truth_f, pred_f, extra_f, json_f, err_f = sys.argv[1:]
truth = [l.split()[0] for l in open(truth_f)]
pred = [l.split()[0] for l in open(pred_f)]
extra = [l.split() for l in open(extra_f)] if extra_f != "-" else None
j = json.load(open(json_f))
err = open(err_f).read()
bad = []
def near(what, a, b, tol=1e-6):
    if a is None or b is None or abs(a - b) > tol * max(1, abs(b)):
        bad.append(f"{what}: {a} != {b}")
want_keys = ["examples", "labelled", "weight", "lines", "skipped", "loss", "oaa", "threshold",
             "logloss", "accuracy", "auc", "rmse", "mae", "quantile_loss", "classes", "macro",
             "weighted", "micro", "confusion"]
if list(j.keys()) != want_keys: bad.append(f"keys {list(j.keys())}")
n = len(truth)
if j["labelled"] != n or j["weight"] != n: bad.append("labelled")
if kind in ("squared", "quantile"):
    y = [float(t) for t in truth]; p = [float(v) for v in pred]
    near("rmse", j["rmse"], math.sqrt(sum((a - b) ** 2 for a, b in zip(p, y)) / n))
    near("mae", j["mae"], sum(abs(a - b) for a, b in zip(p, y)) / n)
    if kind == "quantile":
        tau = 0.3
        near("quantile_loss", j["quantile_loss"],
             sum(tau * (b - a) if b >= a else (tau - 1) * (b - a) for a, b in zip(p, y)) / n)
    elif j["quantile_loss"] is not None: bad.append("quantile_loss")
    for k in ("logloss", "accuracy", "auc", "macro", "micro", "weighted", "confusion"):
        if j[k] is not None: bad.append(k + " not null")
    if j["classes"] != []: bad.append("classes")
    want_err = ""
else:
    names = [c["name"] for c in j["classes"]]
    if kind == "oaa":
        if names != ["1", "2", "3"]: bad.append(f"names {names}")
    elif names != ["-1", "1"]: bad.append(f"names {names}")
    norm = lambda s: "1" if s == "+1" else s
    C = len(names); idx = {s: i for i, s in enumerate(names)}
    conf = [[0] * C for _ in range(C)]
    for t, p in zip(truth, pred): conf[idx[norm(t)]][idx[p]] += 1
    if j["confusion"] != conf: bad.append(f"confusion {j['confusion']} != {conf}")
    acc = sum(conf[k][k] for k in range(C)) / n
    near("accuracy", j["accuracy"], acc)
    rows = []
    present = []
    for k in range(C):
        tp = conf[k][k]; col = sum(conf[t][k] for t in range(C)); row = sum(conf[k])
        if col == 0 and row == 0:
            pr = rc = f1 = None
        else:
            pr = tp / col if col else 0.0; rc = tp / row if row else 0.0
            f1 = 2 * pr * rc / (pr + rc) if pr + rc else 0.0
            present.append((pr, rc, f1, row))
        rows.append((names[k], pr, rc, f1, row))
        c = j["classes"][k]
        if c["support"] != row: bad.append(f"support {k}")
        for key, v in (("precision", pr), ("recall", rc), ("f1", f1)):
            if v is None:
                if c[key] is not None: bad.append(f"{key} {k} not null")
            else: near(f"{key} {k}", c[key], v)
    macro = [sum(x[i] for x in present) / len(present) for i in range(3)]
    weighted = [sum(x[i] * x[3] for x in present) / n for i in range(3)]
    for key, want in (("macro", macro), ("weighted", weighted), ("micro", [acc] * 3)):
        for i, f in enumerate(("precision", "recall", "f1")): near(f"{key} {f}", j[key][f], want[i])
        if j[key]["support"] != n: bad.append(f"{key} support")
    if kind == "logistic":
        q = [min(max(float(e[0]), 1e-15), 1 - 1e-15) for e in extra]
        near("logloss", j["logloss"], -sum(math.log(p if norm(t) == "1" else 1 - p) for p, t in zip(q, truth)) / n, 1e-5)
    if kind == "oaa":
        ll = 0
        for e, t in zip(extra, truth):
            probs = dict(zip(e[0::2], map(float, e[1::2])))
            ll -= math.log(min(max(probs[t], 1e-15), 1 - 1e-15))
        near("multiclass logloss", j["logloss"], ll / n, 1e-5)
        if j["auc"] is not None: bad.append("auc not null")
    elif kind in ("logistic", "hinge"):
        s = [float(e[-1]) for e in extra]
        pos = [v for v, t in zip(s, truth) if norm(t) == "1"]; neg = [v for v, t in zip(s, truth) if norm(t) != "1"]
        a = sum(1.0 if x > y else 0.5 if x == y else 0.0 for x in pos for y in neg) / (len(pos) * len(neg))
        near("auc", j["auc"], a, 1e-5)
    fx = lambda v: "-" if v is None else f"{v:.6f}"
    w0 = max([len("weighted avg")] + [len(x) for x in names])
    def row(name, p, r, f, s):
        return name.ljust(w0) + "".join(" " + v.rjust(9) for v in (fx(p), fx(r), fx(f), str(s))) + "\n"
    t = ("multiclass log loss %.6f\n" % j["logloss"]) if kind == "oaa" else ""
    t += "class".ljust(w0) + "".join(" " + h.rjust(9) for h in ("precision", "recall", "f1", "support")) + "\n"
    for r in rows: t += row(*r)
    t += row("macro avg", *macro, n) + row("weighted avg", *weighted, n) + row("micro avg", acc, acc, acc, n)
    t += "confusion matrix (rows: true class, columns: predicted class)\n"
    cw = [max([len(names[p])] + [len(str(conf[r][p])) for r in range(C)]) for p in range(C)]
    t += " " * w0 + "".join(" " + names[p].rjust(cw[p]) for p in range(C)) + "\n"
    for r in range(C): t += names[r].ljust(w0) + "".join(" " + str(conf[r][p]).rjust(cw[p]) for p in range(C)) + "\n"
    want_err = t
lines = err.split("\n", 1)
if not lines[0].startswith(f"grist-predict: {n} examples: "): bad.append("summary: " + lines[0])
for key, word in (("logloss", "logloss"), ("accuracy", "accuracy"), ("auc", "AUC"), ("rmse", "RMSE"), ("mae", "MAE")):
    if j[key] is not None and not (kind == "oaa" and key == "logloss") and f"{word} {j[key]:.6f}" not in lines[0]:
        bad.append(f"summary lacks {word} {j[key]:.6f}: {lines[0]}")
if lines[1] != want_err: bad.append("table:\n" + lines[1] + "--- expected:\n" + want_err)
if bad:
    print(name + ": " + "\n".join(bad)); sys.exit(1)
EOF
  then pass; else fail "$(cat py.out)"; fi
}

# Logistic: the predictions as labels and probabilities.
cut -d' ' -f1 test.svm > truth.txt
grist-predict -i logistic.gsgd test.svm --output-type label > label.txt
grist-predict -i logistic.gsgd test.svm > prob.txt
grist-predict -i logistic.gsgd test.svm --output-type score > score.txt
run_cmd p.txt err grist-predict -i logistic.gsgd test.svm --metrics --metrics-json m.json
check_status "logistic" 0 "$rc"
check_eq "logistic: the predictions as without --metrics" prob.txt p.txt
paste -d' ' prob.txt score.txt > prob_score.txt
check_metrics "logistic" logistic truth.txt label.txt prob_score.txt m.json err
python3 -c 'import json,sys; j=json.load(open("m.json")); sys.exit(not (j["threshold"] == 0.5 and j["loss"] == "logistic" and j["oaa"] is False and j["examples"] == 400 and j["lines"] == 400 and j["skipped"] == 0))' &&
  pass || fail "logistic: JSON settings"
# The threshold moves the labels, hence the class metrics; not logloss nor AUC.
grist-predict -i logistic.gsgd test.svm --output-type label --threshold 0.9 > label9.txt
run_cmd p.txt err grist-predict -i logistic.gsgd test.svm --threshold 0.9 --metrics --metrics-json m9.json
check_metrics "logistic --threshold 0.9" logistic truth.txt label9.txt prob_score.txt m9.json err
if cmp -s label.txt label9.txt; then fail "the threshold changed no label"; else pass; fi
# -j and stdin change nothing; --metrics-json alone writes nothing on stderr.
grist-predict -j2 -i logistic.gsgd --metrics-json mj2.json < test.svm > /dev/null 2> err2
check_eq "-j2 stdin: the same JSON" m.json mj2.json
check_eq "--metrics-json alone: stderr empty" /dev/null err2
# '-' is stdout, only when -o takes the predictions.
run_cmd out err grist-predict -i logistic.gsgd test.svm -o pj.txt --metrics-json -
check_status "--metrics-json - with -o" 0 "$rc"
check_eq "--metrics-json -: the JSON on stdout" m.json out
check_eq "--metrics-json -: the predictions in -o" prob.txt pj.txt
rm -f pj.txt
run_cmd out err grist-predict -i logistic.gsgd test.svm --metrics-json -
check_status "--metrics-json - without -o" 2 "$rc"
check_grep "--metrics-json - without -o: message" 'standard output holds the predictions' err
check_eq "--metrics-json - without -o: no output" /dev/null out
run_cmd out err grist-predict -i logistic.gsgd test.svm -o /dev/stdout --metrics-json -
check_status "--metrics-json - with -o /dev/stdout" 2 "$rc"
check_grep "--metrics-json - with -o /dev/stdout: message" 'name the same file' err

# Hinge: labels from the score; AUC from the score.
grist-predict -i hinge.gsgd test.svm --output-type label > label.txt
grist-predict -i hinge.gsgd test.svm > score.txt
run_cmd p.txt err grist-predict -i hinge.gsgd test.svm --metrics --metrics-json m.json
check_metrics "hinge" hinge truth.txt label.txt score.txt m.json err

# Regression.
cut -d' ' -f1 regt.svm > truth.txt
for l in squared quantile; do
  grist-predict -i "$l.gsgd" regt.svm > score.txt
  run_cmd p.txt err grist-predict -i "$l.gsgd" regt.svm --metrics --metrics-json m.json
  check_status "$l" 0 "$rc"
  check_metrics "$l" "$l" truth.txt score.txt - m.json err
done

# --oaa: the multiclass log loss from the normalised probabilities.
cut -d' ' -f1 oaat.svm > truth.txt
grist-predict -i oaa.gsgd oaat.svm > label.txt
grist-predict -i oaa.gsgd oaat.svm --top-k 3 > probs.txt
run_cmd p.txt err grist-predict -j2 -i oaa.gsgd oaat.svm --metrics --metrics-json m.json
check_status "oaa" 0 "$rc"
check_metrics "oaa" oaa truth.txt label.txt probs.txt m.json err
grist-predict -j1 -i oaa.gsgd --metrics-json mj1.json < oaat.svm > /dev/null
check_eq "oaa: -j1 stdin, the same JSON" m.json mj1.json

# Unlabelled examples are left out; none labelled: exit 0, said, nulls.
svm_to_vw < test.svm > all.vw
sed -n '1,5s/^[^ ]* //p' all.vw > unl.vw
sed -n 6,8p all.vw >> unl.vw
run_cmd p.txt err grist-predict -i logistic.gsgd --format vw unl.vw --metrics --metrics-json u.json
check_status "partly labelled" 0 "$rc"
check_grep "partly labelled: summary" '^grist-predict: 8 examples \(3 labelled\): logloss' err
python3 -c 'import json,sys; j=json.load(open("u.json")); sys.exit(not (j["examples"] == 8 and j["labelled"] == 3 and sum(map(sum, j["confusion"])) == 3))' &&
  pass || fail "partly labelled: JSON"
head -5 unl.vw > none.vw
run_cmd p.txt err grist-predict -i logistic.gsgd --format vw none.vw --metrics --metrics-json n.json
check_status "none labelled" 0 "$rc"
check_eq "none labelled: stderr" <(printf 'grist-predict: 5 examples (0 labelled)\nno labelled examples: no metrics\n') err
python3 -c 'import json,sys; j=json.load(open("n.json")); sys.exit(not (j["labelled"] == 0 and j["accuracy"] is None and j["logloss"] is None and j["macro"] is None and j["confusion"] == [[0, 0], [0, 0]] and j["classes"][1] == {"name": "1", "precision": None, "recall": None, "f1": None, "support": 0}))' &&
  pass || fail "none labelled: JSON"
run_cmd p.txt err grist-predict -i squared.gsgd --format vw /dev/null --metrics-json e.json
check_status "empty input" 0 "$rc"
python3 -c 'import json,sys; j=json.load(open("e.json")); sys.exit(not (j["examples"] == 0 and j["rmse"] is None and j["classes"] == []))' &&
  pass || fail "empty input: JSON"

# An error leaves neither predictions nor JSON; the JSON file is an output
# like -o: not -o's file.
printf '1 1:1\n1 zz\n' > bad.svm
run_cmd out err grist-predict -i logistic.gsgd bad.svm -o o.txt --metrics-json bad.json
check_status "bad example" 1 "$rc"
check_no_file "bad example: no -o" o.txt
check_no_file "bad example: no JSON" bad.json
run_cmd out err grist-predict -i logistic.gsgd test.svm -o same.json --metrics-json same.json
check_status "JSON = -o" 2 "$rc"
check_no_file "JSON = -o: nothing written" same.json
run_cmd out err grist-predict -i logistic.gsgd test.svm --metrics-json nodir/m.json
check_status "JSON in a missing directory" 1 "$rc"
check_eq "JSON in a missing directory: no predictions" /dev/null out
check_no_temps "no temporaries" .
finish
