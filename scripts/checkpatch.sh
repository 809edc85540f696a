#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/checkpatch.pl --strict over every patch of the series.  Any
# error, warning or check fails, with one exception: "Avoid CamelCase" on
# an identifier that tpm2-tss's own headers define (Esys_PCR_Read,
# pcrSelections, ...), which a test cannot rename.  CamelCase of our own
# still fails.  Usage: checkpatch.sh SRCDIR SERIESDIR
set -uo pipefail

src=$1 dir=$2
tss=/usr/include/tss2
rc=0
for p in "$dir"/*.patch; do
	case "$p" in */0000-cover-letter.patch) continue ;; esac
	out=$(cd "$src" && ./scripts/checkpatch.pl --strict --color=never "$p" 2>&1)
	bad=0 shown=
	# One finding = its first line plus the lines up to the blank line.
	while IFS= read -r -d $'\x1e' finding; do
		first=${finding%%$'\n'*}
		case "$first" in
		"CHECK: Avoid CamelCase: <"*">")
			id=${first#*<}
			id=${id%>}
			if grep -qw -- "$id" "$tss"/*.h 2>/dev/null; then
				continue
			fi
			;;
		ERROR:*|WARNING:*|CHECK:*) ;;
		*) continue ;;
		esac
		bad=$((bad + 1))
		shown+="$finding"$'\n\n'
	done < <(awk 'BEGIN { RS = ""; ORS = "\x1e" } { print }' <<< "$out")
	if [ $bad -ne 0 ] || ! grep -qE '^total: 0 errors' <<< "$out"; then
		echo "  FAIL    $(basename "$p"): $bad finding(s)"
		printf '%s' "$shown"
		[ $bad -eq 0 ] && echo "$out"
		rc=1
	else
		echo "  OK      $(basename "$p")"
	fi
done
[ $rc -eq 0 ] && echo "checkpatch --strict: every patch is clean"
exit $rc
