#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# git format-patch the applied series (pristine..series) into OUTDIR with
# a cover letter whose subject and text come from patches/cover-letter
# (first line: subject; the rest: body).
# Usage: mkseries.sh REPO SRCDIR OUTDIR
set -euo pipefail

repo=$1 src=$2 out=$3
rm -rf "$out"
mkdir -p "$out"
git -C "$src" format-patch -q --cover-letter --thread --base=pristine \
	-o "$out" pristine..series
cover=$(ls "$out"/0000-cover-letter.patch)
subject=$(head -n 1 "$repo/patches/cover-letter")
tail -n +3 "$repo/patches/cover-letter" > "$out/.body"
awk -v subject="$subject" -v bodyfile="$out/.body" '
	/\*\*\* SUBJECT HERE \*\*\*/ { sub(/\*\*\* SUBJECT HERE \*\*\*/, subject) }
	/^\*\*\* BLURB HERE \*\*\*$/ {
		while ((getline line < bodyfile) > 0)
			print line
		next
	}
	{ print }' "$cover" > "$cover.new"
mv "$cover.new" "$cover"
rm -f "$out/.body"
ls "$out"
