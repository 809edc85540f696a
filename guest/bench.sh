#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Benchmarks, run in the guest by 'make bench'.  For each list size of
# imatest.bench_sizes=: grow the list to that many records in memory, take
# a snapshot, and print what the kernel measured (mutex hold times).
set -e
S=/sys/kernel/security/ima
B=/usr/lib/kselftest/ima/ima_bench
sizes=1000
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	imatest.bench_sizes=*) sizes=$(echo "${arg#*=}" | tr ',' ' ') ;;
	esac
done

# Measure reads of files on the ramfs root, and what runs.
printf '%s\n' "measure func=BPRM_CHECK" \
	"measure func=FILE_CHECK mask=MAY_READ fsmagic=0x858458f6" > $S/policy
mkdir -p /bench
saved=/tmp/bench-saved.bin

echo "size,records_in_memory,gen_records_per_s,open_s,marker_hold_ns,marker_total_ns,marker_tpm_commands,finalize_s,trim_records,trim_mutex_holds,trim_hold_max_ns,trim_total_ns"
for n in $sizes; do
	have=$(cat $S/runtime_measurements_in_memory)
	need=$((n - have))
	[ $need -gt 0 ] || need=0
	gen=$($B gen $need /bench)
	rate=$(echo "$gen" | awk '$1 == "gen_records_per_s" { print $2 }')
	inmem=$(cat $S/runtime_measurements_in_memory)
	out=$($B snapshot $saved)
	v() { echo "$out" | awk -v k="$1" '$1 == k { print $2 }'; }
	echo "$n,$inmem,$rate,$(v open_s),$(v marker_hold_ns),$(v marker_total_ns),$(v marker_tpm_commands),$(v finalize_s),$(v trim_records),$(v trim_mutex_holds),$(v trim_hold_max_ns),$(v trim_total_ns)"
	rm -f $saved
done
