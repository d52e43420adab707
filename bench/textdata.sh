#!/bin/bash
# Builds the Austen-vs-Brown text task of bench/textclass.sh and
# bench/sweep.sh in WORKDIR (train/test .txt, .ft and .vw), unless
# WORKDIR/test.txt already exists. Is a short passage (5 to 24 consecutive
# words) from Jane Austen's six novels (1811-1818) or from the Brown corpus
# (1961 American English, 15 genres, fiction among them)? Both texts are
# lowercased and cut to words the same way ([a-z0-9]+ with inner
# apostrophes; punctuation and Brown's pre-tokenised quotes dropped), so
# no formatting gives the source away: only the words do. That is not
# trivially separable: a 5-word passage is often too plain to tell
# ("she said that he was"), and Brown holds romance and fiction of its own.
# The two sources are balanced (equal numbers of passages, sampled with a
# fixed seed), shuffled with a fixed seed and split 80/20 into train and
# test; the same examples feed every tool. Labels: +1 Austen, -1 Brown.
#
#   bench/textdata.sh WORKDIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shared=$here/../../shared
work=${1:?usage: bench/textdata.sh WORKDIR}
mkdir -p "$work"
cd "$work"
[ -s test.txt ] && exit 0
echo "building the task from $shared/data/text (austen vs brown)..." >&2
python3 - "$shared/data/text" <<'EOF'
import random, re, subprocess, sys
src = sys.argv[1]
word = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")
rng = random.Random(20240611)
def passages(name):
    text = subprocess.run(["zstd", "-dc", f"{src}/{name}.txt.zst"], check=True,
                          capture_output=True).stdout.decode("utf-8", "replace").lower()
    w = word.findall(text)
    out, i = [], 0
    while i + 5 <= len(w):
        n = rng.randint(5, 24)
        out.append(" ".join(w[i:i + n]))
        i += n
    return out
a, b = passages("austen"), passages("brown")
n = min(len(a), len(b))
ex = [(1, p) for p in rng.sample(a, n)] + [(-1, p) for p in rng.sample(b, n)]
rng.shuffle(ex)
cut = len(ex) * 4 // 5
for name, part in (("train", ex[:cut]), ("test", ex[cut:])):
    with open(f"{name}.txt", "w") as t, open(f"{name}.ft", "w") as f, open(f"{name}.vw", "w") as v:
        for y, p in part:
            t.write(f"{y}\t{p}\n")
            f.write(f"__label__{'pos' if y > 0 else 'neg'} {p}\n")
            v.write(f"{y} | {p}\n")
EOF
