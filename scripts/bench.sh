#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make bench': boot the guest once per benchmark phase (guest/bench.sh),
# time the reference verifier on the host, then collect everything into
# OUT/*.csv, a table (OUT/bench.txt) and a plot (OUT/bench.png).
#
# Usage: bench.sh OUT BENCH_BZIMAGE OFF_BZIMAGE INITRAMFS SELFTESTS_DIR
# Environment (defaults in brackets):
#   BENCH_SIZES      list sizes with a TPM                   [1000 10000]
#   BENCH_BIG_SIZES  list sizes without a TPM  [1000 10000 100000 1000000]
#   BENCH_READ       records for the ascii read comparison          [100000]
#   BENCH_PIECES     pieces for the verifier timing             [1 10 20 100]
#   BENCH_PHASES     phases to run [tpm off allpcrs big read hotpath verify]
set -uo pipefail

out=$1 bench=$2 off=$3 initrd=$4 st=$5
repo=$(cd "$(dirname "$0")/.." && pwd)
sizes=${BENCH_SIZES:-1000 10000}
big=${BENCH_BIG_SIZES:-1000 10000 100000 1000000}
read_at=${BENCH_READ:-100000}
pieces=${BENCH_PIECES:-1 10 20 100}
phases=${BENCH_PHASES:-tpm off allpcrs big read hotpath verify}
csv() { echo "$*" | tr ' ' ','; }

mkdir -p "$out"
rc=0
for phase in $phases; do
	t0=$(date +%s)
	args=(--mode bench --mem 2048 --timeout 3600 --silence 900)
	case $phase in
	tpm)
		kernel=$bench
		append="imatest.bench_sizes=$(csv $sizes)" ;;
	off)
		kernel=$off
		append="" ;;
	allpcrs)
		kernel=$bench
		append="ima_snapshot_pcrs=all" ;;
	big)
		kernel=$bench
		args+=(--no-tpm --mem 3072)
		append="imatest.bench_sizes=$(csv $big)" ;;
	read)
		# The same list on both kernels, without a TPM: what is left
		# is the cost of IMA itself.
		for k in on off; do
			kernel=$bench
			[ $k = off ] && kernel=$off
			echo "  BENCH   read-$k: $(basename "${kernel%/arch/*}"), no TPM, $read_at records"
			"$repo/scripts/qemu-run.sh" --kernel "$kernel" --initrd "$initrd" \
				--out "$out/read-$k" --mode bench --mem 2048 --timeout 3600 \
				--silence 900 --no-tpm --append "imatest.bench=read \
				imatest.bench_label=read-$k imatest.bench_read=$read_at \
				imatest.bench_batch=20000 \
				ima_policy=tcb" || { echo "bench: read-$k failed" >&2; rc=1; }
		done
		echo "  BENCH   read took $(($(date +%s) - t0))s"
		continue ;;
	hotpath)
		# Both kernels without a TPM under -icount, twice each,
		# alternating: the guest clock counts instructions, so the
		# rates compare the code paths and not the host's load.
		for round in 1 2; do
			for k in on off; do
				kernel=$bench
				[ $k = off ] && kernel=$off
				echo "  BENCH   hotpath-$k ($round/2): $(basename "${kernel%/arch/*}"), no TPM, -icount"
				"$repo/scripts/qemu-run.sh" --kernel "$kernel" --initrd "$initrd" \
					--out "$out/hotpath-$k-$round" --mode bench --mem 1024 \
					--timeout 1800 --silence 600 --no-tpm --icount 0 \
					--append "imatest.bench=hotpath \
					imatest.bench_label=hotpath-$k imatest.bench_reps=5 \
					imatest.bench_batch=5000 ima_policy=tcb" ||
					{ echo "bench: hotpath-$k failed" >&2; rc=1; }
			done
		done
		echo "  BENCH   hotpath took $(($(date +%s) - t0))s"
		continue ;;
	verify)
		echo "  BENCH   verify: ima_verify full and fast mode on the host"
		"$repo/scripts/bench-verify.sh" "$st" "$out/verify" $pieces || rc=1
		echo "  BENCH   verify took $(($(date +%s) - t0))s"
		continue ;;
	*)
		echo "bench: unknown phase $phase" >&2
		exit 2 ;;
	esac
	echo "  BENCH   $phase: $(basename "${kernel%/arch/*}"), $append"
	if ! "$repo/scripts/qemu-run.sh" --kernel "$kernel" --initrd "$initrd" \
			--out "$out/$phase" "${args[@]}" \
			--append "imatest.bench=$phase ima_policy=tcb $append"; then
		echo "bench: phase $phase failed; see $out/$phase/console.log" >&2
		cat "$out/$phase/results/bench.txt" 2>/dev/null | tail -n 20 >&2
		rc=1
	fi
	echo "  BENCH   $phase took $(($(date +%s) - t0))s"
done

# One CSV per kind, the phases' rows together.
for f in marker trim mem rate read; do
	first=1
	for phase in tpm off allpcrs big read-on read-off \
			hotpath-on-1 hotpath-off-1 hotpath-on-2 hotpath-off-2; do
		c=$out/$phase/results/$f.csv
		[ -f "$c" ] || continue
		if [ $first -eq 1 ]; then cat "$c"; first=0; else tail -n +2 "$c"; fi
	done > "$out/$f.csv"
done
[ -f "$out/verify/verify.csv" ] && cp "$out/verify/verify.csv" "$out/verify.csv"
python3 "$repo/scripts/bench-report.py" "$out" || rc=1
exit $rc
