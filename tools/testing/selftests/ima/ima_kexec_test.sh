#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Measurement list snapshots across kexec (kexec_file_load, the path that
# carries the IMA list).  The TPM is not reset by kexec, so after any mix
# of snapshots and soft reboots the saved pieces plus the live list must
# still replay to PCR 10, and the counters must still count since cold
# boot.  Each scenario ends with a kexec into the same kernel, so this test
# runs over several boots: it keeps its state, the saved pieces and its
# results on a disk that survives kexec, and the harness runs it again
# after each boot until it is done.
#
#   1 a snapshot finalized before kexec load
#   2 a snapshot finalized between kexec load and execute
#   3 a snapshot file open, read and not finalized when kexec executes
#   4 restored records trimmed by a snapshot in the new kernel, then a
#     finalize attempted after the kexec dump began (refused: ECANCELED)
#   5 kexec into the kernel without CONFIG_IMA_LOG_SNAPSHOT
#   6 and back into this kernel, whose counters still count since cold boot
#
# On a kernel without the feature it checks that the list is carried over
# as upstream does.
#
# Needs: IMATEST_DATA, a directory on a disk that survives kexec, holding
# boot/self (this kernel's bzImage) and, for steps 5-6, boot/off; kexec;
# /sys/firmware/initrd (boot with retain_initrd); a TPM.

KSFT_SKIP=4
S=/sys/kernel/security/ima
H=$(dirname "$0")/ima_kexec_helper
D=${IMATEST_DATA:-}
K=$D/kexec

skip() { echo "SKIP: $*"; exit $KSFT_SKIP; }

[ "$(id -u)" = 0 ] || skip "must run as root"
[ -n "$D" ] && [ -d "$D" ] || skip "IMATEST_DATA: no disk that survives kexec"
[ -r "$D/boot/self" ] || skip "no kernel image to kexec into ($D/boot/self)"
command -v kexec > /dev/null || skip "kexec-tools not installed"
[ -r /sys/firmware/initrd ] || skip "no retained initrd (boot with retain_initrd)"
[ -d /sys/class/tpm/tpm0 ] || skip "no TPM"
export IMATEST_SAVED=$D/saved.bin

mkdir -p "$K" || exit 1
step=$(cat "$K/step" 2>/dev/null || echo 1)
[ -f "$K/vars" ] && . "$K/vars"
boot=$(($(cat "$K/boots" 2>/dev/null || echo 0) + 1))
echo $boot > "$K/boots"
echo "# boot $boot of the kexec test, step $step, at $(cut -d' ' -f1 /proc/uptime)s uptime"

carried=0

setvar() { echo "$1=$2" >> "$K/vars"; eval "$1=$2"; }

# Record a TAP result for the scenario; the details go to the log.
result() {
	echo "$1 - $2" >> "$K/tap"
	echo "$1 - $2"
}

# verify DESCRIPTION HELPER-ARGS...: one TAP line for the scenario.
verify() {
	desc=$1
	shift
	ok=1
	"$H" verify "$@" > "$K/verify.out" 2>&1 || ok=0
	if [ -e $S/snapshot_count ] && [ -n "${snaps:-}" ] && [ "$carried" = 0 ]; then
		carried=1
		for c in "snapshot_count $snaps" "snapshot_attempt_count $attempts"; do
			set -- $c
			v=$(cat $S/$1)
			if [ "$v" = "$2" ]; then
				echo "ok - $1 $v carried over kexec" >> "$K/verify.out"
			else
				echo "not ok - $1 $v, $2 before kexec" >> "$K/verify.out"
				ok=0
			fi
		done
	fi
	if [ $ok = 1 ]; then
		result ok "$desc"
	else
		result "not ok" "$desc"
	fi
	sed 's/^/#   /' "$K/verify.out"
}

snapshot() {
	out=$("$H" snapshot) || { result "not ok" "snapshot in boot $boot: $out"; return 1; }
	echo "${out#marker }"
}

# A few records that did not exist before (ima_policy=tcb measures what
# runs from the ramfs root).
gen() {
	mkdir -p /gen
	i=0
	while [ $i -lt "$1" ]; do
		f=/gen/b$boot-s$step-$i
		printf '#!/bin/sh\n# %s\n' "$f" > "$f"
		chmod +x "$f"
		"$f"
		i=$((i + 1))
	done
}

load() {
	cmdline=$(sed "s/imatest\.config=[^ ]*/imatest.config=$2/" /proc/cmdline)
	if ! kexec -s -l "$1" --initrd=/sys/firmware/initrd \
			--command-line="$cmdline"; then
		result "not ok" "kexec load of $1 in boot $boot"
		finish
	fi
}

# Keep this kernel's log for the harness's splat check, then kexec.
execute() {
	echo "$1" > "$K/step"
	# The snapshot counters the next kernel must carry on from.
	if [ -e $S/snapshot_count ]; then
		setvar snaps "$(cat $S/snapshot_count)"
		setvar attempts "$(cat $S/snapshot_attempt_count)"
	fi
	R=${IMATEST_RESULTS:-}
	if [ -n "$R" ] && [ -d "$R" ]; then
		if [ -w /sys/kernel/debug/kmemleak ]; then
			echo scan > /sys/kernel/debug/kmemleak
			sleep 1
			echo scan > /sys/kernel/debug/kmemleak
			cat /sys/kernel/debug/kmemleak > "$R/kmemleak-kexec$boot.txt"
		fi
		dmesg > "$R/dmesg-kexec$boot.txt"
	fi
	echo "# kexec -e at $(cut -d' ' -f1 /proc/uptime)s uptime"
	sync
	# CPU 0: the race helper keeps CPU 1.
	taskset 1 kexec -e
	result "not ok" "kexec -e returned in boot $boot"
	finish
}

finish() {
	echo done > "$K/step"
	echo "# kexec test done at $(cut -d' ' -f1 /proc/uptime)s uptime"
	echo "# kexec test: $(grep -c '^ok' "$K/tap") passed, $(grep -c '^not ok' "$K/tap") failed"
	grep -q '^not ok' "$K/tap" && exit 1
	exit 0
}

if [ ! -e $S/snapshot ] && [ "$step" = 1 ]; then
	# The kernel without the feature: the list goes over as upstream.
	gen 3
	setvar mode off
	load "$D/boot/self" off
	execute off2
fi

case "$step" in
off2)
	verify "feature-off kernel: the list carried over kexec replays to the TPM" \
		--off --head none
	finish
	;;
1)
	setvar config "$(sed -n 's/.*imatest\.config=\([^ ]*\).*/\1/p' /proc/cmdline)"
	gen 3
	n=$(snapshot) || finish
	setvar n1 "$n"
	gen 3
	load "$D/boot/self" "$config"
	execute 2
	;;
2)
	verify "snapshot finalized before kexec load: the next kernel starts with its marker" \
		--head "$n1"
	gen 3
	load "$D/boot/self" "$config"
	n=$(snapshot) || finish
	setvar n2 "$n"
	gen 3
	execute 3
	;;
3)
	verify "snapshot finalized between kexec load and execute: starts the next list" \
		--head "$n2"
	gen 3
	load "$D/boot/self" "$config"
	rm -f "$K/held"
	"$H" hold "$K/held" &
	for _ in $(seq 100); do [ -s "$K/held" ] && break; sleep 0.1; done
	[ -s "$K/held" ] || { result "not ok" "hold a snapshot open"; finish; }
	setvar held "$(sed 's/marker //' "$K/held")"
	execute 4
	;;
4)
	verify "snapshot open, not finalized at kexec execute: nothing trimmed, marker carried" \
		--head "$n2" --has "$held"
	before=$(cat $S/runtime_measurements_in_memory)
	n=$(snapshot) || finish
	setvar n4 "$n"
	after=$(cat $S/runtime_measurements_in_memory)
	desc="restored records trimmed ($before -> $after in memory)"
	if [ "$after" -lt "$before" ]; then
		result ok "$desc"
	else
		result "not ok" "$desc"
	fi
	verify "after trimming restored records the log still replays" --head "$n4"
	# A long list makes the copy at execute take a while: the racing
	# finalize lands while it runs.
	mkdir -p /gen
	"$(dirname "$0")/ima_bench" gen 2000 /gen > /dev/null ||
		result "not ok" "add 2000 records"
	load "$D/boot/self" "$config"
	rm -f "$K/raced"
	"$H" race "$K/raced" &
	for _ in $(seq 100); do [ -s "$K/raced" ] && break; sleep 0.1; done
	[ -s "$K/raced" ] || { result "not ok" "open a snapshot for the race"; finish; }
	setvar raced "$(sed 's/marker //' "$K/raced")"
	# The harness checks that this line reached the console.
	echo "imatest: finalize after the kexec dump began: ECANCELED" \
		>> "${IMATEST_RESULTS:-$K}/expect-console"
	execute 5
	;;
5)
	verify "finalize after the kexec dump began: nothing trimmed, the marker carried" \
		--head "$n4" --has "$raced"
	if [ ! -r "$D/boot/off" ]; then
		result ok "kexec into the feature-off kernel # SKIP no $D/boot/off"
		finish
	fi
	n=$(snapshot) || finish
	setvar n5 "$n"
	gen 3
	load "$D/boot/off" off
	execute 6
	;;
6)
	verify "kexec into the feature-off kernel: it restores the trimmed list" \
		--off --head "$n5"
	gen 3
	load "$D/boot/self" "$config"
	execute 7
	;;
7)
	verify "kexec from the feature-off kernel: counters count since cold boot again" \
		--head "$n5"
	n=$(snapshot) || finish
	verify "a further snapshot after three kexecs" --head "$n"
	finish
	;;
done)
	finish
	;;
*)
	result "not ok" "unknown state $step in $K/step"
	finish
	;;
esac
