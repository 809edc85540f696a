#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the guest's TAP results and each failed test's output, and exit
# non-zero if the run failed for any reason.  Usage: report.sh OUTDIR RC
out=$1 rc=$2
res=$out/results

if [ -f "$res/tap.txt" ]; then
	grep -v '^#' "$res/tap.txt"
	for t in $(sed -n 's/^not ok [0-9]* \([^ ]*\).*/\1/p' "$res/tap.txt"); do
		echo "# ---- output of failed test $t ----"
		sed 's/^/# /' "$res/$t.log"
	done
	summary=$(grep -E '^# [0-9]+ passed' "$res/tap.txt" | sed 's/^# //')
fi
echo "# guest run took $(cat "$out/guest-seconds" 2>/dev/null || echo ?)s; console: $out/console.log"
case $rc in
0) ;;
1) [ -s "$out/splats.txt" ] && echo "# FAIL: kernel splats in the guest's log (see above)" ;;
2) echo "# FAIL: the guest crashed, hung or wrote no results" ;;
*) echo "# FAIL: harness error ($rc)" ;;
esac
[ -n "${summary:-}" ] && echo "${summary}"
[ "$rc" -eq 0 ] || exit 1
grep -q '^not ok' "$res/tap.txt" && exit 1
exit 0
