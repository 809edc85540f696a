#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Benchmarks, run in the guest by 'make bench' (scripts/bench.sh), one
# phase per boot, named by imatest.bench=:
#
#   tpm      the bench kernel with swtpm: the measuring rate with and
#            without a snapshot loop; then for each size of
#            imatest.bench_sizes=, grow the list to that many records,
#            time marker opens and the finalize that trims them, and the
#            kernel memory before, at that size and after the trim
#   off      the kernel without the option, with swtpm: the measuring rate
#   allpcrs  the bench kernel booted with ima_snapshot_pcrs=all: marker
#            opens reading all 24 PCRs
#   big      the bench kernel without a TPM: the sizes of
#            imatest.bench_sizes= up to a million records
#   read     either kernel, without a TPM: the measuring rate, then the
#            time to read ascii_runtime_measurements at imatest.bench_read=
#            records (nothing trimmed)
#   hotpath  either kernel, without a TPM, under QEMU's -icount (the
#            guest clock counts instructions): the measuring rate, and
#            on the bench kernel the rate with a snapshot loop running
#
# imatest.bench_label= names the phase in the CSV files (default: the
# phase), so that runs of one phase on two kernels can be told apart.
#
# Writes CSV files into the results directory $1 (the host collects them):
#   marker.csv  phase,size,hold_ns,total_ns,tpm_commands
#   trim.csv    phase,size,records,mutex_holds,hold_max_ns,total_ns,finalize_s
#   mem.csv     phase,size,slab_before_kb,slab_at_size_kb,slab_after_trim_kb,
#               counter_bytes_at_size,counter_bytes_after_trim
#   rate.csv    phase,condition,records,seconds,records_per_s
#   read.csv    phase,records,bytes,seconds
set -e
R=$1
S=/sys/kernel/security/ima
B=/usr/lib/kselftest/ima/ima_bench
phase=tpm label= sizes=1000 read_at=0 reps=5 batch=1000
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	imatest.bench=*) phase=${arg#*=} ;;
	imatest.bench_label=*) label=${arg#*=} ;;
	imatest.bench_sizes=*) sizes=$(echo "${arg#*=}" | tr ',' ' ') ;;
	imatest.bench_read=*) read_at=${arg#*=} ;;
	imatest.bench_reps=*) reps=${arg#*=} ;;
	imatest.bench_batch=*) batch=${arg#*=} ;;
	esac
done

label=${label:-$phase}

# Measure reads of files on the ramfs root (the same rule on every
# kernel); nothing else is measured while the benchmarks run.
printf '%s\n' "measure func=FILE_CHECK mask=MAY_READ fsmagic=0x858458f6" > $S/policy
mkdir -p /bench
cd "$R"
[ -f marker.csv ] || echo "phase,size,hold_ns,total_ns,tpm_commands" > marker.csv
[ -f trim.csv ] || echo "phase,size,records,mutex_holds,hold_max_ns,total_ns,finalize_s" > trim.csv
[ -f mem.csv ] || echo "phase,size,slab_before_kb,slab_at_size_kb,slab_after_trim_kb,counter_bytes_at_size,counter_bytes_after_trim" > mem.csv
[ -f rate.csv ] || echo "phase,condition,records,seconds,records_per_s" > rate.csv
[ -f read.csv ] || echo "phase,records,bytes,seconds" > read.csv

slab() { awk '$1 == "SUnreclaim:" { print $2 }' /proc/meminfo; }
kv() { echo "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
in_memory() {
	if [ -r $S/runtime_measurements_in_memory ]; then
		cat $S/runtime_measurements_in_memory
	else
		cat $S/runtime_measurements_count
	fi
}
log() { echo "bench[$label]: $*" > /dev/console; }

# Grow the list to $1 records in memory.
grow() {
	need=$(($1 - $(in_memory)))
	[ $need -gt 0 ] || return 0
	$B gen $need /bench > /dev/null
}

rate() {	# condition
	i=0
	while [ $i -lt "$reps" ]; do
		out=$($B gen "$batch" /bench)
		echo "$label,$1,$batch,$(kv "$out" gen_seconds),$(kv "$out" gen_records_per_s)" >> rate.csv
		i=$((i + 1))
	done
}

read_ascii() {
	grow "$read_at"
	n=$(in_memory)
	i=0
	while [ $i -lt 3 ]; do
		out=$($B read $S/ascii_runtime_measurements)
		echo "$label,$n,$(kv "$out" read_bytes),$(kv "$out" read_s)" >> read.csv
		i=$((i + 1))
	done
}

# Snapshots at each size: markers, then the trim.
sizes() {
	for n in $sizes; do
		log "size $n"
		# Start from a trimmed list: the memory of the records before.
		$B snapshot /dev/null > /dev/null
		before=$(slab)
		grow "$n"
		at=$(slab)
		bytes_at=$(cat $S/runtime_measurements_in_memory_bytes)
		$B marker "$reps" | while read -r _ hold total cmds; do
			echo "$label,$n,$hold,$total,$cmds" >> marker.csv
		done
		out=$($B snapshot /dev/null)
		after=$(slab)
		echo "$label,$n,$(kv "$out" trim_records),$(kv "$out" trim_mutex_holds),$(kv "$out" trim_hold_max_ns),$(kv "$out" trim_total_ns),$(kv "$out" finalize_s)" >> trim.csv
		echo "$label,$n,$before,$at,$after,$bytes_at,$(cat $S/runtime_measurements_in_memory_bytes)" >> mem.csv
	done
}

case "$phase" in
tpm)
	rate idle
	$B loop 100000 100 > /tmp/loop.out &
	loop=$!
	rate snapshot_loop
	kill $loop
	sizes
	;;
off)
	rate idle
	;;
read)
	rate idle
	read_ascii
	;;
hotpath)
	rate idle
	if [ -e $S/snapshot ]; then
		$B loop 100000 100 > /tmp/loop.out &
		loop=$!
		rate snapshot_loop
		kill $loop
	fi
	;;
allpcrs)
	grow 1000
	$B marker "$reps" | while read -r _ hold total cmds; do
		echo "$label,$(in_memory),$hold,$total,$cmds" >> marker.csv
	done
	;;
big)
	sizes
	;;
*)
	echo "unknown phase $phase"
	exit 1
	;;
esac
log done
