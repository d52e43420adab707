#!/bin/bash
# Installs what grist needs, builds it, and counts the words of a default
# corpus every Debian machine has: the licence texts in
# /usr/share/common-licenses and the compressed documentation under
# /usr/share/doc. Prints the 20 most frequent words.
# pipefail: a failing grist-tokenize fails the demo (grist-count alone
# would print the counts of what it read and exit 0).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh build
list=$(mktemp)
trap 'rm -f "$list"' EXIT
find /usr/share/common-licenses /usr/share/doc -type f \
  \( -name '*.gz' -o -path '/usr/share/common-licenses/*' \) 2>/dev/null | sort >"$list" || true
echo "Counting the words of $(wc -l <"$list") files under /usr/share/common-licenses and /usr/share/doc:"
# xargs -r: grist-tokenize reads them all, in order (in as few runs as the
# command line's length allows).
xargs -r -d '\n' build/bin/grist-tokenize --lower -v <"$list" | build/bin/grist-count --top 20 -v
