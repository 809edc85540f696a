#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo, run in the guest: IMA and the TPM, then a measurement list
# snapshot taken by the reference agent, verified, carried over a kexec
# reboot and verified again.  With a data disk (IMATEST_DATA, holding
# boot/self) the demo runs over two boots: this script runs again in the
# kexec'd kernel and goes on from where it stopped.
S=/sys/kernel/security/ima
T=/sys/class/tpm/tpm0
K=/usr/lib/kselftest/ima
D=${IMATEST_DATA:-/tmp}
STORE=$D/snapshots
step() { echo; echo "=== $* ==="; }
short() { cut -c1-"${1:-100}"; }
counters() {
	for c in runtime_measurements_count runtime_measurements_in_memory \
		 runtime_measurements_in_memory_bytes runtime_measurements_trimmed \
		 snapshot_count snapshot_attempt_count; do
		printf '  %-38s %s\n' $c "$(cat $S/$c)"
	done
}
verify() {
	$K/ima_verify --dir $STORE "$@" 2>&1 | grep -E '^(piece|live|bank|quote|state|verdict)' |
		sed 's/^/  /' | tail -n 8
}
gen() {
	mkdir -p /demo-gen
	i=0
	while [ $i -lt "$1" ]; do
		f=/demo-gen/$2-$i
		printf '#!/bin/sh\n' > $f
		chmod +x $f
		$f
		i=$((i + 1))
	done
}

if [ -f "$D/demo-kexec" ]; then
	rm -f "$D/demo-kexec"
	step "9. After kexec: the new kernel restored the trimmed list"
	echo "  (the TPM was not reset: PCR 10 kept growing)"
	counters
	echo "  first record of the list:"
	head -n 1 $S/ascii_runtime_measurements | short 120

	step "10. Saved pieces + the carried list still verify against the TPM"
	gen 5 after
	verify --quote

	step "11. Fast mode: only what came after the state saved before kexec"
	verify --state $D/verify-state

	step "12. One more snapshot in this kernel, and verify again"
	$K/ima_snapshot_agent --dir $STORE 2>&1 | sed 's/^/  /'
	ls $STORE | sed 's/^/  /'
	verify
	exit 0
fi

step "1. The TPM"
if [ -e $T ]; then
	dmesg | grep -m1 -E 'tpm_tis|tpm_crb' | sed 's/^\[[^]]*\] //'
	echo "active PCR banks: $(ls -d $T/pcr-* | sed 's|.*/pcr-||' | tr '\n' ' ')"
else
	echo "no TPM found: IMA runs in TPM-bypass mode"
fi

step "2. Measuring: the first record is boot_aggregate; every program run is one"
head -n 1 $S/ascii_runtime_measurements | short 120
gen 20 before
echo "records now: $(cat $S/runtime_measurements_count)"
tail -n 2 $S/ascii_runtime_measurements | short 120
for b in sha1 sha256; do
	[ -e $T/pcr-$b/10 ] && echo "PCR 10 $b: $(cat $T/pcr-$b/10)"
done

[ -e $S/snapshot ] || {
	echo
	echo "(CONFIG_IMA_LOG_SNAPSHOT is off: no snapshots)"
	$K/ima_replay_test 2>&1 | grep -E '^(ok|not ok)'
	exit 0
}

step "3. Counters before the snapshot"
counters
free_before=$(awk '/^Slab:/ { print $2 }' /proc/meminfo)

step "4. The agent opens the snapshot file: a snapshot_aggregate marker joins the list"
$K/ima_snapshot_agent --dir $STORE 2>&1 | sed 's/^/  /'
echo "  the marker, decoded:"
head -n 1 $S/ascii_runtime_measurements | awk '{ print $NF }' | \
	sed 's/../\\x&/g' | xargs -0 printf '%b' | tr ';' '\n' | short 90 | \
	sed 's/^/    /' | grep -v '^ *$'

step "5. Saved (fsync, rename, fsync the directory), then finalized: trimmed"
ls -l $STORE | awk 'NR > 1 { print "  " $5, $NF }'
counters
echo "  slab: $free_before kB before, $(awk '/^Slab:/ { print $2 }' /proc/meminfo) kB after"

step "6. Verify: the saved piece + the live list replay to PCR 10 (TPM2_Quote)"
verify --quote --save-state $D/verify-state

step "7. evmctl (ima-evm-utils) agrees on the stitched log"
$K/ima_snapshot_agent --dir $STORE --stitch > /tmp/full.bin
for b in sha1 sha256; do
	i=0
	: > /tmp/pcrs-$b
	while [ $i -lt 24 ]; do
		printf 'PCR-%02d: %s\n' $i "$(cat $T/pcr-$b/$i)" >> /tmp/pcrs-$b
		i=$((i + 1))
	done
done
evmctl ima_measurement --pcrs sha1,/tmp/pcrs-sha1 --pcrs sha256,/tmp/pcrs-sha256 \
	/tmp/full.bin 2>&1 | grep -m2 -E 'Matched|match' | sed 's/^/  /'

if [ ! -r "$D/boot/self" ] || ! command -v kexec > /dev/null; then
	echo
	echo "(no data disk with boot/self: the demo ends before kexec)"
	exit 0
fi
step "8. kexec into the same kernel: the trimmed list goes over"
gen 5 prekexec
kexec -s -l "$D/boot/self" --initrd=/sys/firmware/initrd --reuse-cmdline ||
	{ echo "kexec load failed"; exit 1; }
echo "  $(cat $S/runtime_measurements_in_memory) records in memory go to the next kernel"
touch "$D/demo-kexec"
sync
kexec -e
echo "kexec -e returned"
exit 1
