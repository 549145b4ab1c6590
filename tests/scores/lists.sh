#!/bin/sh
# lists.sh CORPUS SPLITDIR train|test OUTDIR: the split's lists of that
# half with absolute paths, as OUTDIR/spam and OUTDIR/ham.
set -eu
corpus=$1 split=$2 half=$3 out=$4
mkdir -p "$out"
for c in spam ham; do
	sed "s|^|$corpus/|" "$split/${half}_$c.txt" > "$out/$c"
done
