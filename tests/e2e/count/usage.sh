#!/usr/bin/env bash
# Usage errors exit 2; help and version exit 0.
. "$(dirname "$0")/../lib/common.sh"

printf 'a\n' > in.txt
run_cmd out.txt err.txt grist-count -S 100K in.txt
check_status "-S too small" 2 "$rc"
check_grep "-S message" 'too small.*at least 1.0 MiB' err.txt
run_cmd out.txt err.txt grist-count --top 3 -p 2 -o d in.txt
check_status "--top with -p" 2 "$rc"
run_cmd out.txt err.txt grist-count --on-error ignore in.txt
check_status "bad --on-error" 2 "$rc"
run_cmd out.txt err.txt grist-count --min-cont 3 in.txt
check_status "unknown option" 2 "$rc"
check_grep "did you mean" "did you mean '--min-count'" err.txt
check_grep "unknown option named" "unrecognized option '--min-cont'" err.txt
check_grep "usage line" "^Usage: grist-count \[OPTION\]\.\.\. \[FILE\]\.\.\.\$" err.txt
run_cmd out.txt err.txt grist-count --help
check_status "--help" 0 "$rc"
check_grep "help text" '--top' out.txt
run_cmd out.txt err.txt grist-count --version
check_status "--version" 0 "$rc"
finish
