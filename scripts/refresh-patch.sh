#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Developer tool: rewrite the diff of patch N of the series from the kernel
# tree.  Check out the series' commit N in SRCDIR (git checkout series~K),
# edit the upstream files there, then run this: the patch keeps its mail
# header and gets the diff of commit N-1 -> working tree, limited to the
# upstream files the patch touches (files the repo adds are left out:
# they are copied from the repo).  Then 'make kernel' re-applies.
#
# Usage: refresh-patch.sh REPO SRCDIR N [extra upstream files...]
set -euo pipefail

repo=$1 src=$2 n=$3
shift 3
mapfile -t names < <(awk '/^[ \t]*(#|$)/ { next } /^[ \t]+\+/ { next } { print $1 }' \
	"$repo/patches/series")
patch=$repo/patches/${names[$((n - 1))]}
base=pristine
[ "$n" -gt 1 ] && base=$(git -C "$src" rev-parse "series~$((${#names[@]} - n + 1))")
files=$(sed -n 's|^diff --git a/\([^ ]*\) b/.*|\1|p' "$patch")
for f in "$@"; do files="$files $f"; done
hdr=$(sed '/^diff --git /,$d' "$patch")
{
	printf '%s\n' "$hdr"
	git -C "$src" diff "$base" -- $files
	printf -- '-- \n2.39.5\n'
} > "$patch.new"
mv "$patch.new" "$patch"
echo "refreshed $(basename "$patch") against $base: $(echo $files | wc -w) files"
