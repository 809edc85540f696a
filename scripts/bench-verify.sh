#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Time the reference verifier (ima_verify) on the host, in full and fast
# mode, on synthetic histories (ima_mklog) of K pieces of RECORDS records
# each plus a live list of 100 records, for each K given.
#
# Fast mode starts from the state a verification saved one snapshot
# earlier (the marker that closes piece K-1), so it reads one piece and
# the live list; with one piece there is no earlier marker to start from.
#
# Writes OUTDIR/verify.csv: pieces,records,mode,median_s,min_s,max_s.
# Usage: bench-verify.sh SELFTESTS_DIR OUTDIR K...
set -euo pipefail

st=$1 out=$2
shift 2
records=${BENCH_PIECE_RECORDS:-1000}
reps=${BENCH_VERIFY_REPS:-5}
V=$st/ima_verify
M=$st/ima_mklog
[ -x "$V" ] && [ -x "$M" ] || { echo "no $V or $M" >&2; exit 2; }
rm -rf "$out"
mkdir -p "$out"

spec() {	# K: K pieces of $records records, then 100 live records
	local piece i s=""
	piece=$(printf 'r%.0s' $(seq "$records"))s
	for ((i = 0; i < $1; i++)); do s+=$piece; done
	printf '%s' "$s"
}

# Median, min and max of the times on stdin, one a line.
stats() { sort -g | awk '{ t[NR] = $1 } END { printf "%.4f,%.4f,%.4f", t[int((NR + 1) / 2)], t[1], t[NR] }'; }

timeit() {	# command...: prints the seconds it took, fails if it failed
	local t0 t1
	t0=$(date +%s.%N)
	"$@" > /dev/null || return 1
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
}

echo "pieces,records,mode,median_s,min_s,max_s" > "$out/verify.csv"
for k in "$@"; do
	h=$out/h$k
	mkdir -p "$h/store"
	s=$(spec "$k")
	"$M" --dir "$h/store" --live "$h/live" --pcrs "$h/pcrs" "${s}$(printf 'r%.0s' $(seq 100))" > /dev/null
	n=$((k * (records + 1) + 101))
	# Once outside the timing: the history must verify (set -e).
	"$V" --dir "$h/store" --live "$h/live" --pcrs "$h/pcrs" --quiet > /dev/null
	for ((i = 0; i < reps; i++)); do
		timeit "$V" --dir "$h/store" --live "$h/live" --pcrs "$h/pcrs" --quiet
	done | stats > "$h/full"
	echo "$k,$n,full,$(cat "$h/full")" >> "$out/verify.csv"
	if [ "$k" -lt 2 ]; then
		echo "$k,$n,fast,,," >> "$out/verify.csv"
		continue
	fi
	# The state of a verification one snapshot earlier.
	p=$out/p$k
	mkdir -p "$p/store"
	"$M" --dir "$p/store" --live "$p/live" --pcrs "$p/pcrs" "$(spec $((k - 1)))" > /dev/null
	"$V" --dir "$p/store" --live "$p/live" --pcrs "$p/pcrs" --quiet \
		--save-state "$p/state" > /dev/null
	"$V" --dir "$h/store" --live "$h/live" --pcrs "$h/pcrs" --quiet \
		--state "$p/state" > /dev/null
	for ((i = 0; i < reps; i++)); do
		timeit "$V" --dir "$h/store" --live "$h/live" --pcrs "$h/pcrs" --quiet \
			--state "$p/state"
	done | stats > "$h/fast"
	echo "$k,$n,fast,$(cat "$h/fast")" >> "$out/verify.csv"
done
cat "$out/verify.csv"
