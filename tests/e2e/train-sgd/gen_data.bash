# Sourced by the train-sgd and predict tests: gen_svm N SEED writes a
# linearly separable svmlight problem (labels -1/+1, 200 features, 10 active,
# margin 0.2) with awk, so that no test reads shared data.
gen_svm() {
  awk -v n="$1" -v seed="$2" 'BEGIN {
    srand(1);  # the same true weights for every seed
    for (j = 1; j <= 200; j++) w[j] = rand() * 2 - 1;
    srand(seed);
    while (made < n) {
      delete x; m = 0; line = "";
      for (k = 0; k < 10; k++) { j = int(rand() * 200) + 1; x[j] = int(rand() * 100 + 1) / 100 }
      for (j = 1; j <= 200; j++) if (j in x) { m += w[j] * x[j]; line = line " " j ":" x[j] }
      if (m > -0.2 && m < 0.2) continue;
      print (m > 0 ? "+1" : "-1") line; made++
    }
  }'
}
# svm_to_vw: the same examples in VW text, unnamed namespace.
svm_to_vw() { awk '{ l = $1; sub(/^[^ ]+/, ""); print (l == "+1" ? 1 : -1) " |" $0 }'; }
# gen_predict_sets: the predict tests' inputs: train.svm and test.svm
# (gen_svm), reg.svm and regt.svm (labels +3/-3 from the sign), oaa.svm and
# oaat.svm (three classes: 1 and 2 from the sign, every third example 3).
gen_predict_sets() {
  gen_svm 1500 4 > train.svm
  gen_svm 400 5 > test.svm
  local reg='{ print ($1 == "+1" ? 3 : -3), substr($0, index($0, " ") + 1) }'
  awk "$reg" train.svm > reg.svm
  awk "$reg" test.svm > regt.svm
  local cls='{ c = $1 == "+1" ? 2 : 1; if (NR % 3 == 0) c = 3; $1 = c; print }'
  awk "$cls" train.svm > oaa.svm
  awk "$cls" test.svm > oaat.svm
}
