#!/bin/bash
# Classes by name: any label of text input is a class, fastText input
# (__label__NAME ..., several labels a line) is sniffed; the classes are
# found by a scan before training (two: binary, the second positive; more:
# one against all; numeric order when all are integers, else byte order),
# or given with --classes. 0/1 and -1/+1 keep their numeric models.
. "$(dirname "$0")/../lib/common.sh"

# Three classes, each with its own words, plus noise words.
awk 'BEGIN {
  srand(5)
  split("spam ham eggs", name, " ")
  for (i = 0; i < 300; i++) {
    c = 1 + int(rand() * 3)
    w = "w" c "_" int(rand() * 3)
    n = "n" int(rand() * 20)
    printf "%s\t%s %s\n", name[c], w, n > "three.tsv"
    printf "__label__%s %s %s\n", name[c], w, n > "three.ft"
    printf "%s %s\n", w, n > "three.words"
    # what grist-predict prints: the class by its name
    print name[c] > "three.want"
    if (c != 3) {
      printf "%s\t%s %s\n", name[c], w, n > "two.tsv"
      printf "__label__%s %s %s\n", name[c], w, n > "two.ft"
      printf "%s\t%s %s\n", (c == 1 ? 1 : 0), w, n > "01.tsv"
      printf "%s\t%s %s\n", (c == 1 ? 1 : -1), w, n > "pm1.tsv"
    }
  }
}'

# One against all, found in byte order: every input path gives the same model.
for f in three.tsv three.ft; do
  run_cmd out err grist-train-sgd -j1 "$f" -f "$f.m1" --readable-model "$f.r"
  check_status "$f" 0 "$rc"
  check_grep "$f: classes in byte order" '^# labels=eggs	ham	spam$' "$f.r"
  check_grep "$f: oaa 3" '^# oaa=3$' "$f.r"
  check_grep "$f: readable model names classes" '^[0-9]+	spam	[-0-9.e]+	w3_0$' "$f.r"
  check_grep "$f: progress shows names" '^[0-9.]+ +[0-9.]+ +1 +(spam|ham|eggs) +(spam|ham|eggs) ' err
  gzip -c "$f" > "$f.gz"
  grist-train-sgd -q -j1 "$f.gz" -f "$f.m2"
  check_eq "$f: compressed file, same model" "$f.m1" "$f.m2"
  grist-train-sgd -q -j1 < "$f" -f "$f.m3"
  check_eq "$f: stdin (a file), same model" "$f.m1" "$f.m3"
  fmt=text; [ "$f" = three.ft ] && fmt=fasttext
  cat "$f.gz" | grist-train-sgd -q -j1 -T . --format $fmt -f "$f.m4"
  check_eq "$f: stdin (a pipe, compressed, --format), same model" "$f.m1" "$f.m4"
  check_no_temps "$f: the spooled stdin is gone" .
  # Without --format a pipe is not copied (it might be svmlight): the
  # first label by name stops training, saying what works.
  run_cmd out err grist-train-sgd -q -j1 -T . -f "$f.m5" < <(cat "$f")
  check_status "$f: a pipe without --format" 1 "$rc"
  check_grep "$f: a pipe without --format: what works" \
    "from a pipe give --classes NAME,NAME,\.\.\., or --format text or fasttext" err
  check_no_file "$f: a pipe without --format: no model" "$f.m5"
  cat "$f" | grist-train-sgd -q -j1 --classes eggs,ham,spam -f "$f.m6"
  check_eq "$f: a pipe with --classes, same model" "$f.m1" "$f.m6"
  for j in 1 2; do
    for p in 1 3; do
      cat "$f" | grist-train-sgd -q -j$j --passes $p --format $fmt -f "$f.j$j.p$p"
      run_cmd pred err grist-predict -i "$f.j$j.p$p" --metrics "$f"
      check_status "$f -j$j --passes $p: predict" 0 "$rc"
      check_grep "$f -j$j --passes $p: accuracy" 'accuracy 1\.0' err
      check_eq "$f -j$j --passes $p: the classes in byte order" pred three.want
    done
  done
  # Unlabelled input predicts the same.
  run_cmd pred2 err grist-predict -i "$f.j1.p3" three.words
  check_status "$f: unlabelled input" 0 "$rc"
  check_eq "$f: unlabelled input, same predictions" pred2 three.want
done

# Text and fastText models read each other's input when --format says so,
# and refuse it when not.
grist-predict -i three.tsv.m1 --format fasttext three.ft > a.txt
grist-predict -i three.ft.m1 --format text three.tsv > b.txt
check_eq "text model, fasttext input" a.txt three.want
check_eq "fasttext model, text input" b.txt three.want
run_cmd out err grist-predict -i three.tsv.m1 three.ft
check_status "text model, fasttext input without --format" 1 "$rc"
check_grep "text model, fasttext input: message" "three\.ft:1: no tab: an unlabelled line of text, but it reads as a fasttext example" err
run_cmd out err grist-predict -i three.ft.m1 three.tsv
check_status "fasttext model, text input without --format" 1 "$rc"
check_grep "fasttext model, text input: message" "three\.tsv:1: no __label__: an unlabelled line of text, but it reads as a text example" err

# Two classes by name: binary, the second in byte order positive (spam).
for f in two.tsv two.ft; do
  run_cmd out err grist-train-sgd -j1 --passes 3 "$f" -f "$f.m" --readable-model "$f.r"
  check_status "$f" 0 "$rc"
  check_grep "$f: binary" '^# oaa=0$' "$f.r"
  check_grep "$f: names, negative first" '^# labels=ham	spam$' "$f.r"
  grist-predict -i "$f.m" --metrics "$f" 2> err | awk '{ print ($1 > 0.5) }' > p.txt
  check_grep "$f: accuracy" 'accuracy 1\.0' err
  cut -c1-4 two.tsv | awk '{ print ($1 == "spam") }' > want.txt
  check_eq "$f: spam positive" p.txt want.txt
done
# --classes fixes the order: the last is positive.
grist-train-sgd -q -j1 --classes spam,ham two.tsv --readable-model r.txt -f m.gsgd
check_grep "--classes order" '^# labels=spam	ham$' r.txt
grist-predict -i m.gsgd two.tsv | awk '{ print ($1 <= 0.5) }' > p.txt
check_eq "--classes: ham positive" p.txt want.txt
run_cmd out err grist-train-sgd -q --classes spam,eggs two.tsv -f x.gsgd
check_status "--classes without ham" 1 "$rc"
check_grep "--classes: message" "two\.tsv:[0-9]+: label 'ham' is not one of the 2 classes 'spam', 'eggs'; add it to --classes" err
check_no_file "--classes: no model" x.gsgd
# --classes works for svmlight too.
printf 'yes 1:1\nno 2:1\n' > yn.svm
run_cmd out err grist-train-sgd -q --classes no,yes yn.svm --readable-model r.txt
check_status "--classes, svmlight" 0 "$rc"
check_grep "--classes, svmlight: names" '^# labels=no	yes$' r.txt

# 0/1 and -1/+1 keep the numeric model: version 1, no names, the same bytes.
grist-train-sgd -q -j1 01.tsv -f 01.m
grist-train-sgd -q -j1 pm1.tsv -f pm1.m
check_eq "0/1 and -1/+1: one model" 01.m pm1.m
check_eq "version 1" <(head -c 12 01.m | tail -c 4 | od -An -tu4 | tr -d ' ') <(echo 1)
grep -aq 'labels=' 01.m && fail "0/1 model has names" || pass

# Integer classes of more than two: one against all, numeric order.
printf '10\tx\n9\ty\n-2\tz\n10\tx\n' > ints.tsv
grist-train-sgd -q ints.tsv --readable-model r.txt
check_grep "integers in numeric order" '^# labels=-2	9	10$' r.txt

# Several labels a line: one against all, right when the top class is any.
awk 'BEGIN { for (i = 0; i < 200; i++) print (i % 2 ? "__label__a __label__b x" : "__label__c y") }' > multi.ft
run_cmd out err grist-train-sgd -j1 --passes 3 multi.ft -f multi.m --readable-model r.txt
check_status "several labels" 0 "$rc"
check_grep "several labels: oaa even for two" '^# oaa=3$' r.txt
check_grep "several labels: 0/1 error falls" '^pass 3: 200 examples, training loss 0\.000000' err
run_cmd p.txt err grist-predict -i multi.m --metrics multi.ft
check_status "several labels: metrics" 0 "$rc"
check_grep "several labels: right when any label is predicted" '^grist-predict: 200 examples: accuracy 1\.000000$' err
printf 'x\ny\n' | grist-predict -i multi.m > p.txt
awk 'NR == 1 && ($1 == "a" || $1 == "b") { ok++ } NR == 2 && $1 == "c" { ok++ } END { exit ok != 2 }' p.txt && pass ||
  fail "several labels: predictions $(tr '\n' ' ' < p.txt)"

# -i: the model's classes; a new label is an error that says so.
printf 'spam\tw1_0\nbacon\tw2_0\n' > new.tsv
run_cmd out err grist-train-sgd -i three.tsv.m1 new.tsv -f x.gsgd
check_status "-i, new label" 1 "$rc"
check_grep "-i, new label: message" "new\.tsv:2: label 'bacon' is not one of the 3 classes 'eggs', 'ham', 'spam'; the model given with -i fixes its classes" err
check_no_file "-i, new label: no model" x.gsgd
head -1 new.tsv | grist-train-sgd -q -i three.tsv.m1 -f y.gsgd --readable-model r.txt
check_grep "-i keeps the names" '^# labels=eggs	ham	spam$' r.txt

# --on-error skip: a malformed line is no class, and is skipped once.
{ head -3 three.tsv; echo 'no tab on this line'; tail -n +4 three.tsv; } > bad.tsv
run_cmd out err grist-train-sgd -j1 --on-error skip bad.tsv -f skip.m
check_status "skip" 0 "$rc"
check_grep "skip: one warning" 'skipped 1 malformed example.*bad\.tsv:4' err
check_grep "skip: 300 examples" '^grist-train-sgd: 300 examples' err
check_eq "skip: the model of the good lines" skip.m three.tsv.m1
run_cmd out err grist-train-sgd -q bad.tsv -f x.gsgd
check_status "no skip" 1 "$rc"
check_grep "no skip: message" 'bad\.tsv:4: no tab after the label' err
# --format fasttext given; stdin among files.
head -100 three.ft > h.ft
tail -n +101 three.ft | grist-train-sgd -q -j1 --format fasttext h.ft - -f parts.m
check_eq "fasttext: a file and stdin, as one input" parts.m three.ft.m1

# Errors that say what would work.
printf 'spam\tx\nspam\ty\n' > one.tsv
run_cmd out err grist-train-sgd one.tsv -f x.gsgd
check_status "one class" 2 "$rc"
check_grep "one class: message" "one class only \('spam'\).*--classes spam,OTHER" err
printf '0.5\tx\n2\ty\n' > real.tsv
run_cmd out err grist-train-sgd real.tsv -f x.gsgd
check_status "numbers" 2 "$rc"
check_grep "numbers: message" "label '0\.5' is a number but not a class: for numbers to predict give --loss squared" err
run_cmd out err grist-train-sgd --oaa 3 three.tsv -f x.gsgd
check_status "--oaa with names" 1 "$rc"
check_grep "--oaa with names: message" "bad label 'spam': not a class number 1\.\.3; for classes give --oaa K \(numbers 1\.\.K\) or --classes" err
printf '1 1:1\n2 2:1\n' > two.svm
run_cmd out err grist-train-sgd two.svm -f x.gsgd
check_status "svmlight 2" 1 "$rc"
check_grep "svmlight 2: message" "label '2' is not binary \(use -1/\+1 or 0/1\); for classes give --oaa K" err
run_cmd out err grist-train-sgd --classes a two.tsv
check_status "--classes a" 2 "$rc"
run_cmd out err grist-train-sgd --classes a,b --loss squared two.tsv
check_status "--classes, squared" 2 "$rc"
check_no_file "no model" x.gsgd
check_no_temps "no temporaries" .
finish
