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
