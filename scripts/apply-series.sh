#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Turn the repo's series into git commits on top of the pristine tree and
# check them out in SRCDIR.
#
# patches/series lists the patches in order.  A patch is a mail (From:,
# Subject:, commit message, Signed-off-by, diff of upstream files).  Files
# the series adds live in the repo at their kernel paths; indented
# "+path/in/kernel" lines under a patch name add those files to that
# patch's commit:
#
#   0001-ima-foo.patch
#   	+security/integrity/ima/ima_foo.c
#
# The commits are built with git plumbing in a scratch index, so files the
# series does not change keep their timestamps and the kernel build stays
# incremental.  Prints the new HEAD.
#
# Usage: apply-series.sh REPO SRCDIR
set -euo pipefail

repo=$(cd "${1:?usage: apply-series.sh REPO SRCDIR}" && pwd)
src=${2:?usage: apply-series.sh REPO SRCDIR}
series=$repo/patches/series

cd "$src"
tmpindex=$src/.git/index.series
export GIT_INDEX_FILE=$tmpindex
trap 'rm -f "$tmpindex"' EXIT
git read-tree pristine
head=$(git rev-parse pristine)

export GIT_COMMITTER_NAME=${GIT_COMMITTER_NAME:-IMA snapshot build}
export GIT_COMMITTER_EMAIL=${GIT_COMMITTER_EMAIL:-build@localhost}
# Reproducible commit ids for an unchanged series.
export GIT_COMMITTER_DATE="2026-01-01T00:00:00Z"

n=0
while read -r name extra; do
	case "$name" in ''|'#'*) continue ;; esac
	n=$((n + 1))
	patch=$repo/patches/$name
	[ -f "$patch" ] || { echo "apply-series: $name: no such patch" >&2; exit 1; }
	info=$(mktemp -d)
	git mailinfo "$info/msg" "$info/diff" < "$patch" > "$info/hdr"
	if [ -s "$info/diff" ]; then
		if ! git apply --cached --whitespace=error-all "$info/diff"; then
			echo "apply-series: $name does not apply" >&2
			rm -rf "$info"
			exit 1
		fi
	fi
	for f in $extra; do
		f=${f#+}
		[ -f "$repo/$f" ] || { echo "apply-series: $name: $f missing in repo" >&2; exit 1; }
		mode=100644
		[ -x "$repo/$f" ] && mode=100755
		blob=$(git hash-object -w "$repo/$f")
		git update-index --add --cacheinfo "$mode,$blob,$f"
	done
	subject=$(sed -n 's/^Subject: //p' "$info/hdr")
	author=$(sed -n 's/^Author: //p' "$info/hdr")
	email=$(sed -n 's/^Email: //p' "$info/hdr")
	date=$(sed -n 's/^Date: //p' "$info/hdr")
	tree=$(git write-tree)
	head=$({ printf '%s\n\n' "$subject"; cat "$info/msg"; } |
		GIT_AUTHOR_NAME="$author" GIT_AUTHOR_EMAIL="$email" \
		GIT_AUTHOR_DATE="${date:-2026-01-01T00:00:00Z}" \
		git commit-tree "$tree" -p "$head")
	rm -rf "$info"
done < <(awk '
	/^[ \t]*(#|$)/ { next }
	/^[ \t]+\+/ { line = line " " $1; next }
	{ if (line != "") print line; line = $1 }
	END { if (line != "") print line }' "$series")

unset GIT_INDEX_FILE
git update-ref refs/heads/series "$head"
git symbolic-ref HEAD refs/heads/series
# Only files that differ from the previous checkout are rewritten.
git reset -q --hard series
git clean -q -fd -- security tools Documentation >/dev/null 2>&1 || true
echo "$n patches applied, HEAD $(git rev-parse --short HEAD)" >&2
