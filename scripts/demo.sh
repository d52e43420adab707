#!/bin/sh
# Installs what grist needs, builds it, and counts the words of a default
# corpus every Debian machine has: the licence texts in
# /usr/share/common-licenses and the compressed documentation under
# /usr/share/doc. Prints the 20 most frequent words.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh build
list=$(mktemp)
trap 'rm -f "$list"' EXIT
find /usr/share/common-licenses /usr/share/doc -type f \
  \( -name '*.gz' -o -path '/usr/share/common-licenses/*' \) 2>/dev/null | sort >"$list"
echo "Counting the words of $(wc -l <"$list") files under /usr/share/common-licenses and /usr/share/doc:"
# xargs -r: one grist-tokenize reads them all, in order.
xargs -r build/bin/grist-tokenize --lower -v <"$list" | build/bin/grist-count --top 20 -v
