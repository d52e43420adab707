#!/bin/bash
# Held out by default with several passes (every 10th line, as VW), the
# model of the best held-out pass written, the warnings, and Vowpal
# Wabbit's option names answered with grist's.
. "$(dirname "$0")/../lib/common.sh"
. "$GRIST_SRC/tests/e2e/train-sgd/gen_data.bash"

gen_svm 2000 3 > t.svm
svm_to_vw < t.svm > t.vw

# --- the default holdout ---
run_cmd out err grist-train-sgd -j1 t.svm --passes 3 -f d.gsgd
check_status "default holdout" 0 "$rc"
check_grep "default holdout said" '^grist-train-sgd: held out: lines 10, 20, \.\.\. of each input \(10%, the default with several passes; 200 examples\), never trained on; last held-out loss [0-9.]+$' err
check_grep "pass lines show the held-out loss" '^pass 3: 2000 examples, training loss [0-9.]+, held-out loss [0-9.]+$' err
grist-train-sgd -q -j1 t.svm --passes 3 --holdout-every 10 -f d10.gsgd
check_eq "the default is --holdout-every 10" d.gsgd d10.gsgd
run_cmd out err grist-train-sgd -j1 t.svm --passes 3 --holdout-every 0 -f off.gsgd
check_status "--holdout-every 0" 0 "$rc"
check_grep "--holdout-every 0 said" '^grist-train-sgd: held out: nothing \(--holdout-every 0\)$' err
if grep -q 'held-out loss' err; then fail "--holdout-every 0: a held-out loss shown"; else pass; fi
if cmp -s off.gsgd d.gsgd; then fail "--holdout-every 0 trains on every line"; else pass; fi
run_cmd out err grist-train-sgd -j1 t.svm -f one.gsgd
check_grep "one pass holds out nothing" '^grist-train-sgd: held out: nothing \(--holdout-every N to hold out\)$' err
run_cmd out err grist-train-sgd -j1 t.svm --holdout-every 4 -f one4.gsgd
check_grep "one pass, asked" 'held out: lines 4, 8, \.\.\. of each input \(25%; 500 examples\)' err

# --- the best pass's model ---
# A constant high rate over-fits: the held-out loss is lowest in pass 6 of 8.
rate=(--optimizer sgd -l 20 --power-t 0)
run_cmd out err grist-train-sgd -j1 t.svm --passes 8 --early-stop 0 "${rate[@]}" -f best.gsgd \
  --readable-model best.txt -T "$TMPDIR"
check_status "best pass" 0 "$rc"
check_grep "model from the best pass" '^grist-train-sgd: model: from pass 6 of 8 \(the best held-out loss 0\.050520\)$' err
check_grep "all passes ran" 'stopped: all 8 passes done' err
grist-train-sgd -q -j1 t.svm --passes 6 "${rate[@]}" -f six.gsgd --readable-model six.txt
check_eq "the model is that of --passes 6" six.gsgd best.gsgd
check_eq "so is --readable-model" six.txt best.txt
check_grep "its history says 6 passes" '^passes_trained=6$' <(grep -a '^passes_trained=' best.gsgd)
check_no_temps "no temporaries after restoring" .
# Stopped early: the same model.
run_cmd out err grist-train-sgd -j1 t.svm --passes 20 --early-stop 1 "${rate[@]}" -f early.gsgd
check_grep "stopped early" 'stopped: stopped early after pass 7 of 20: held-out loss did not improve for 1 passes \(best 0\.050520 in pass 6\)' err
check_grep "model from pass 6 of 7" 'model: from pass 6 of 7 \(the best' err
check_eq "stopped early: the best pass's model" six.gsgd early.gsgd
# Pass 7 of 7 is the first without improvement: no early stop, the last.
run_cmd out err2 grist-train-sgd -j1 t.svm --passes 7 --early-stop 1 "${rate[@]}" -f seven.gsgd
check_grep "the last pass: no early stop" 'stopped: all 7 passes done' err2
check_eq "the last pass: the best pass's model" six.gsgd seven.gsgd
# Standard input, and VW input, the same way.
grist-train-sgd -q -j1 --passes 8 --early-stop 0 "${rate[@]}" -f stdin.gsgd < t.svm
check_eq "stdin: the best pass's model" six.gsgd stdin.gsgd
grist-train-sgd -q -j1 t.vw --passes 8 --early-stop 0 "${rate[@]}" -f vw8.gsgd
grist-train-sgd -q -j1 t.vw --passes 6 "${rate[@]}" -f vw6.gsgd
check_eq "vw: the best pass's model" vw6.gsgd vw8.gsgd
# The last pass the best: said so; two threads run and say which pass.
run_cmd out err grist-train-sgd -j1 t.svm --passes 3 -f last.gsgd
check_grep "the last pass the best" '^grist-train-sgd: model: from pass 3 of 3 \(the last, with the best held-out loss [0-9.]+\)$' err
run_cmd out err grist-train-sgd -j2 t.svm --passes 8 --early-stop 0 "${rate[@]}" -f j2.gsgd
check_status "-j2" 0 "$rc"
check_grep "-j2 says which pass" '^grist-train-sgd: model: from pass [1-8] of 8 ' err
run_cmd out err grist-predict -i best.gsgd t.svm --metrics
check_status "predict reads the restored model" 0 "$rc"

# --- warnings and conflicts ---
nosave='grist-train-sgd: warning: no -f (or --readable-model): the model will not be saved'
shuffle='grist-train-sgd: warning: --shuffle shuffles the cached examples of passes 2 and later: with one pass it does nothing (pass 1 reads the input in order)'
early='grist-train-sgd: warning: --early-stop compares the passes'"'"' held-out losses: with one pass it does nothing'
run_cmd out err grist-train-sgd -j1 t.svm
check_status "no -f" 0 "$rc"
check_eq "no -f warns" <(echo "$nosave") <(grep warning err)
run_cmd out err grist-train-sgd -j1 t.svm --shuffle --early-stop 2
check_eq "--shuffle and --early-stop with one pass warn" <(printf '%s\n' "$nosave" "$shuffle" "$early") <(grep warning err)
run_cmd out err grist-train-sgd -j1 t.svm --passes 2 --shuffle --early-stop 2 --readable-model r.txt
check_eq "no warning with a model and passes" /dev/null <(grep warning err)
run_cmd out err grist-train-sgd -q -j1 t.svm --shuffle
check_eq "--quiet: no warnings (errors only)" /dev/null err
run_cmd out err grist-train-sgd t.svm --passes 3 --holdout-every 0 --early-stop 2 -f bad.gsgd
check_status "--early-stop with --holdout-every 0" 2 "$rc"
check_eq "--early-stop with --holdout-every 0 said" \
  <(printf '%s\n' "grist-train-sgd: --early-stop needs held-out examples, and --holdout-every 0 holds out none" \
    "Try 'grist-train-sgd --help' for more information.") err
check_no_file "no model after a usage error" bad.gsgd

# --- Vowpal Wabbit's names ---
# NAME<TAB>the line after "unrecognized option" (or "invalid option").
vw_answer() {
  local n=$1
  case $n in
    --loss_function) echo "did you mean '--loss'? ($n is Vowpal Wabbit's name)" ;;
    --power_t) echo "did you mean '--power-t'? ($n is Vowpal Wabbit's name)" ;;
    --initial_t) echo "did you mean '--initial-t'? ($n is Vowpal Wabbit's name)" ;;
    --quantile_tau) echo "did you mean '--quantile-tau'? ($n is Vowpal Wabbit's name)" ;;
    --holdout_off) echo "did you mean '--holdout-every 0'? ($n is Vowpal Wabbit's name)" ;;
    --holdout_period) echo "did you mean '--holdout-every'? ($n is Vowpal Wabbit's name)" ;;
    --early_terminate) echo "did you mean '--early-stop'? ($n is Vowpal Wabbit's name)" ;;
    --bit_precision) echo "did you mean '--bits'? ($n is Vowpal Wabbit's name)" ;;
    --learning_rate|--ftrl_alpha) echo "did you mean '--learning-rate'? ($n is Vowpal Wabbit's name)" ;;
    --readable_model|--invert_hash) echo "did you mean '--readable-model'? ($n is Vowpal Wabbit's name)" ;;
    --initial_regressor) echo "did you mean '--initial-model'? ($n is Vowpal Wabbit's name)" ;;
    --final_regressor) echo "did you mean '--final-model'? ($n is Vowpal Wabbit's name)" ;;
    --ngram) echo "did you mean '--ngrams'? ($n is Vowpal Wabbit's name)" ;;
    --noconstant) echo "did you mean '--no-bias'? ($n is Vowpal Wabbit's name)" ;;
    --ftrl) echo "did you mean '--optimizer ftrl'? ($n is Vowpal Wabbit's name)" ;;
    --ftrl_beta) echo "did you mean '--ftrl-beta'? ($n is Vowpal Wabbit's name)" ;;
    --sgd) echo "did you mean '--optimizer sgd --no-normalize'? ($n is Vowpal Wabbit's name)" ;;
    --random_seed) echo "did you mean '--seed'? ($n is Vowpal Wabbit's name)" ;;
    -c|--cache|-k|--kill_cache|--cache_file)
      echo "$n is Vowpal Wabbit's option: not needed: with --passes above 1 the parsed examples are cached in -T by themselves, for this run only" ;;
    -d|--data) echo "$n is Vowpal Wabbit's option: give the files as arguments: grist-train-sgd [OPTION]... FILE... (none: standard input)" ;;
    --save_resume) echo "$n is Vowpal Wabbit's option: not needed: -f always keeps the optimiser state, and -i continues from it" ;;
    -p|--predictions) echo "$n is Vowpal Wabbit's option: grist-predict -i MODEL FILE (predictions on standard output)" ;;
    -t|--testonly) echo "$n is Vowpal Wabbit's option: grist-predict -i MODEL FILE --metrics" ;;
    --adaptive|--normalized|--invariant)
      echo "$n is Vowpal Wabbit's option: the default (--optimizer adagrad, normalised; --no-normalize turns that off)" ;;
  esac
}
for n in --loss_function --power_t --initial_t --quantile_tau --holdout_off --holdout_period \
  --early_terminate --bit_precision --learning_rate --ftrl_alpha --readable_model --invert_hash \
  --initial_regressor --final_regressor --ngram --noconstant --ftrl --ftrl_beta --sgd \
  --random_seed -c --cache -k --kill_cache --cache_file -d --data --save_resume -p --predictions \
  -t --testonly --adaptive --normalized --invariant; do
  run_cmd out err grist-train-sgd "$n" t.svm -f vwname.gsgd
  check_status "$n" 2 "$rc"
  if [[ $n == --* ]]; then first="unrecognized option '$n'"; else first="invalid option -- '${n#-}'"; fi
  check_eq "$n answered" <(printf 'grist-train-sgd: %s\n' "$first" "$(vw_answer "$n")"
    echo "Usage: grist-train-sgd [OPTION]... [FILE]..."
    echo "Try 'grist-train-sgd --help' for more information.") err
  check_no_file "$n: no model" vwname.gsgd
done
# With a value, and with =VALUE.
run_cmd out err grist-train-sgd --loss_function=squared t.svm
check_grep "--loss_function=squared" "^grist-train-sgd: did you mean '--loss'\\?" err
run_cmd out err grist-train-sgd --passes 2 --holdout_period 5 t.svm
check_grep "--holdout_period 5" "^grist-train-sgd: did you mean '--holdout-every'\\?" err
# A near miss that is not VW's is still guessed.
run_cmd out err grist-train-sgd --passe 2 t.svm
check_grep "near miss" "^grist-train-sgd: did you mean '--passes'\\?$" err

# --- the man page's table ---
man=$GRIST_SRC/man/grist-train-sgd.1
check_grep "man: the table" '^\.SS Coming from Vowpal Wabbit$' "$man"
check_eq "man: committed = generated" "$man" <(grist-train-sgd --generate man)
for n in bit_precision loss_function holdout_off holdout_period early_terminate readable_model \
  final_regressor initial_regressor cache_file testonly predictions power_t quadratic; do
  check_grep "man: --$n" "\\\\fB\\\\-\\\\-$n\\\\fR" "$man"
done
grep -A1 '^\\fB\\-\\-holdout_off\\fR$' "$man" | tail -1 > row.txt
check_eq "man: --holdout_off -> --holdout-every 0" <(echo '\-\-holdout\-every 0') row.txt
finish
