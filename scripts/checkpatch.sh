#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/checkpatch.pl --strict over every patch of the series.  Any
# error, warning or check fails, and so does checkpatch itself failing
# (a Python traceback from spdxcheck.py, say), with two exceptions:
#  - "Avoid CamelCase" on an identifier that tpm2-tss's own headers define
#    (Esys_PCR_Read, pcrSelections, ...), which a test cannot rename;
#    CamelCase of our own still fails;
#  - "filename in the file" on a Kconfig line that sources a sibling
#    Kconfig.<name> file (security/integrity/ima/Kconfig sourcing
#    Kconfig.snapshot): the path has the file's own name as a prefix, the
#    false positive every such line upstream gets (drivers/gpu/drm/i915/
#    Kconfig sourcing Kconfig.debug).
# Usage: checkpatch.sh SRCDIR SERIESDIR
set -uo pipefail

src=$1 dir=$2
# spdxcheck.py needs python3-ply, from Debian: prefer its python3.
export PATH=/usr/bin:$PATH
tss=/usr/include/tss2
rc=0
for p in "$dir"/*.patch; do
	case "$p" in */0000-cover-letter.patch) continue ;; esac
	out=$(cd "$src" && ./scripts/checkpatch.pl --strict --color=never "$p" 2>&1)
	bad=0 shown= exempt=0
	# One finding = its first line plus the lines up to the blank line.
	while IFS= read -r -d $'\x1e' finding; do
		first=${finding%%$'\n'*}
		case "$first" in
		"CHECK: Avoid CamelCase: <"*">")
			id=${first#*<}
			id=${id%>}
			if grep -qw -- "$id" "$tss"/*.h 2>/dev/null; then
				exempt=$((exempt + 1))
				continue
			fi
			;;
		"WARNING: It's generally not useful to have the filename in the file")
			if grep -qE '^#[0-9]+: FILE: [^ ]*/Kconfig:[0-9]+:$' <<< "$finding" &&
			   grep -qE '^\+source "[^"]*/Kconfig\.[a-z]+"$' <<< "$finding"; then
				exempt=$((exempt + 1))
				continue
			fi
			;;
		ERROR:*|WARNING:*|CHECK:*) ;;
		*) continue ;;
		esac
		bad=$((bad + 1))
		shown+="$finding"$'\n\n'
	done < <(awk 'BEGIN { RS = ""; ORS = "\x1e" } { print }' <<< "$out")
	# The totals must be exactly the findings exempted above.
	total=$(grep -E '^total: [0-9]+ errors, [0-9]+ warnings, [0-9]+ checks' <<< "$out" |
		awk '{ print $2 + $4 + $6 }')
	if grep -q 'Traceback\|Error:' <<< "$out"; then
		echo "  FAIL    $(basename "$p"): checkpatch.pl itself failed"
		echo "$out" | grep -A3 'Traceback\|Error:'
		rc=1
	elif [ $bad -ne 0 ] || [ "${total:-x}" != "$exempt" ]; then
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
