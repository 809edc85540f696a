#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The demo, run in the guest: what IMA and the TPM look like, step by step.
S=/sys/kernel/security/ima
T=/sys/class/tpm/tpm0
step() { echo; echo "=== $* ==="; }
short() { cut -c1-"${1:-100}"; }

step "1. The TPM"
if [ -e $T ]; then
	dmesg | grep -m1 -E 'tpm_tis|tpm_crb' | sed 's/^\[[^]]*\] //'
	echo "active PCR banks: $(ls -d $T/pcr-* | sed 's|.*/pcr-||' | tr '\n' ' ')"
else
	echo "no TPM found: IMA runs in TPM-bypass mode"
fi

step "2. The first record: boot_aggregate (a digest of PCRs 0-9)"
head -n 1 $S/ascii_runtime_measurements | short 140

step "3. Measuring: every program run from the ramfs root is a record"
echo "records now: $(cat $S/runtime_measurements_count)"
for p in /bin/kexec /bin/evmctl; do $p --version >/dev/null 2>&1; done
echo "after running kexec and evmctl: $(cat $S/runtime_measurements_count)"
tail -n 2 $S/ascii_runtime_measurements | short 140

step "4. PCR 10 in the TPM"
for b in sha1 sha256; do
	[ -e $T/pcr-$b/10 ] && echo "$b: $(cat $T/pcr-$b/10)"
done

step "5. Replaying the list gives PCR 10 (the IMA selftests)"
cd /usr/lib/kselftest/ima
./ima_replay_test 2>&1 | grep -E '^(ok|not ok)'
./ima_count_test 2>&1 | grep -E '^(ok|not ok|#.*count)'

[ -e $S/snapshot ] || { echo; echo "(CONFIG_IMA_LOG_SNAPSHOT is off: no snapshots)"; exit 0; }

counters() {
	for c in runtime_measurements_count runtime_measurements_in_memory \
		 runtime_measurements_in_memory_bytes runtime_measurements_trimmed \
		 snapshot_count snapshot_attempt_count; do
		printf '  %-38s %s\n' $c "$(cat $S/$c)"
	done
}

step "6. Counters before the snapshot"
counters

step "7. Open the snapshot file: a snapshot_aggregate marker joins the list"
SAVED=/tmp/ima-saved-snapshots.bin
exec 3<>$S/snapshot
tail -n 1 $S/ascii_runtime_measurements | short 200
echo "  its buffer, decoded:"
tail -n 1 $S/ascii_runtime_measurements | awk '{ print $NF }' | \
	sed 's/../\\x&/g' | xargs -0 printf '%b' | tr ';' '\n' | sed 's/^/    /' | grep -v '^ *$'

step "8. Read the records before the marker and save them (a piece)"
cat <&3 > /tmp/piece.bin
echo "  saved $(wc -c < /tmp/piece.bin) bytes; the binary list had $(wc -c < $S/binary_runtime_measurements)"
cat /tmp/piece.bin >> $SAVED
sync

step "9. Write to finalize: the records before the marker leave kernel memory"
echo 1 >&3
exec 3>&-
counters
echo "  the list now starts with the marker:"
head -n 1 $S/ascii_runtime_measurements | short 120

step "10. Saved piece + live list still replay to PCR 10"
./ima_replay_test 2>&1 | grep -E '^(ok|not ok)'
./ima_count_test 2>&1 | grep -E '^(ok|not ok|#)'
