#!/usr/bin/env bash
# Every option of every program refuses the values it cannot mean, with
# exit 2 and a message naming the option; the list of options and their
# ranges comes from the programs themselves (`--generate options`), so a
# new option is covered the day it is added:
#   - numbers (and -S, --ngrams, --batch-size): -1, 2^64 (whole numbers),
#     1e999, nan, inf, "", 0 where 0 means nothing, and the values just
#     below and above the range (tests/unit/test_cli.cpp tries more forms);
#   - an option that refuses a word but has no grist rule ("number?", a
#     check written with CLI11 alone) gets the same values;
#   - FILE and DIR options: the empty name;
#   - choices: a value not among them;
#   - every value option given last, without its value.
# Each message is one line "PROGRAM: ..." then the usage, as GNU programs
# write them. (Some 400 runs of the programs: kept out of the sanitizer
# stage, which the parsing these checks reach gains nothing from.)
# ctest-labels: nosan
. "$(dirname "$0")/../lib/common.sh"

hostile=(-1 1e999 nan inf "")

# expect_refused PROG OPTION VALUE PATTERN: exit 2, first line of stderr
# "PROG: PATTERN", the usage after it, nothing on stdout.
expect_refused() {
  local prog=$1 opt=$2 value=$3 pattern=$4
  set +e
  timeout 20 "$prog" "$opt" "$value" </dev/null >out.txt 2>err.txt
  rc=$?
  set -e
  local what="$prog $opt '$value'"
  check_status "$what" 2 "$rc"
  if head -1 err.txt | grep -qF -- "$prog: $pattern"; then pass; else
    fail "$what: first line is not '$prog: $pattern':"; head -3 err.txt >&2
  fi
  check_grep "$what: usage" "^Usage: $prog " err.txt
  if [ -s out.txt ]; then fail "$what: wrote to stdout"; else pass; fi
}

programs=0
options=0
for prog_path in "$GRIST_BIN"/grist-*; do
  [ -x "$prog_path" ] || continue
  prog=${prog_path##*/}
  programs=$((programs + 1))
  "$prog" --generate options > listing.txt
  [ -s listing.txt ] || fail "$prog --generate options listed nothing"
  while IFS=$'\t' read -r name kind zero below above desc; do
    options=$((options + 1))
    case $kind in
      whole|number|size|ngrams|count-or-all|number\?)
        values=("${hostile[@]}")
        # A range without a lower end (grist-predict --threshold) takes -1.
        [ "$below" = - ] && [ "$kind" = number ] && values=("${values[@]:1}")
        # 2^64 is a fine floating-point value (a finite number, 0 or more).
        [ "$kind" != number ] && values+=(18446744073709551616)
        [ "$zero" = 0bad ] && values+=(0)
        [ "$kind" = size ] && values+=(200%)
        [ "$below" != - ] && [ "$below" != -1 ] && [ "$below" != 0 ] && values+=("$below")
        [ "$above" != - ] && values+=("$above")
        for v in "${values[@]}"; do
          expect_refused "$prog" "$name" "$v" "invalid argument '$v' for '$name': "
        done
        ;;
      file)
        expect_refused "$prog" "$name" "" "invalid argument '' for '$name': the file name is empty"
        ;;
      dir)
        expect_refused "$prog" "$name" "" \
          "invalid argument '' for '$name': the directory name is empty"
        ;;
      choice)
        expect_refused "$prog" "$name" "no-such-value" \
          "invalid argument 'no-such-value' for '$name': expected one of: ${desc//,/, }"
        ;;
      flag|text) ;;
      *) fail "$prog $name: unknown kind '$kind' in --generate options" ;;
    esac
    if [ "$kind" != flag ]; then
      set +e
      timeout 20 "$prog" "$name" </dev/null >out.txt 2>err.txt
      rc=$?
      set -e
      check_status "$prog $name without its value" 2 "$rc"
      check_grep "$prog $name without its value: message" \
        "^$prog: option '$name' requires an argument\$" err.txt
    fi
  done < listing.txt

  # The checks that span options.
  run_cmd out.txt err.txt "$prog" --progress --no-progress
  check_status "$prog --progress --no-progress" 2 "$rc"
  check_grep "$prog exclusion" \
    "^$prog: options '--progress' and '--no-progress' exclude each other\$" err.txt
  run_cmd out.txt err.txt "$prog" -Z
  check_status "$prog -Z" 2 "$rc"
  check_grep "$prog unknown short option" "^$prog: invalid option -- 'Z'\$" err.txt
done

# The class is the whole of it: every program, and the options named in
# the report that found these defects.
check_status "programs listed" 7 "$programs"
for p in "grist-count --top" "grist-count --min-count" "grist-tokenize --min-length" \
         "grist-shuffle-sort --seed" "grist-train-sgd --seed" "grist-train-sgd --l2" \
         "grist-train-sgd --power-t" "grist-train-sgd --initial-t" \
         "grist-train-sgd --quantile-tau" "grist-train-sgd --ftrl-beta" \
         "grist-count --threads" "grist-count --memory" "grist-count --partitions"; do
  set -- $p
  if "$1" --generate options | cut -f1,2 | grep -qE "^$2"$'\t'"(whole|number|size)\$"; then
    pass
  else
    fail "$p is not listed as a checked number"
  fi
done
# A value CLI11 alone would read as octal is decimal.
seq 1 20 > in.txt
run_cmd out.txt err.txt grist-count --top 010 in.txt
check_status "--top 010" 0 "$rc"
check_status "--top 010 lines" 10 "$(wc -l < out.txt)"
# Messages show the value escaped (no raw control byte reaches stderr).
run_cmd out.txt err.txt grist-count --top $'\e[2J\r'
check_status "--top ESC" 2 "$rc"
check_grep "--top ESC: escaped" "invalid argument '\\\\x1b\\[2J\\\\r' for '--top'" err.txt
if LC_ALL=C grep -qP '[\x00-\x08\x0b-\x1f\x7f]' err.txt; then
  fail "--top ESC: raw control bytes on stderr"
else
  pass
fi
echo "$programs programs, $options options"
finish
