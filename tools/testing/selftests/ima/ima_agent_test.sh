#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The reference snapshot agent (ima_snapshot_agent) and log verifier
# (ima_verify) against the kernel and a real TPM:
#
#  - many snapshots between workloads that add measurements; after each,
#    the verifier passes (full mode, PCRs from sysfs), evmctl
#    ima_measurement on the agent's --stitch output matches the TPM, and
#    the verifier's fast mode from the previous state passes too;
#  - the agent killed at every step (open, copy, rename, finalize): the
#    next run recovers, nothing is lost or saved twice, the log verifies;
#  - the verifier with a TPM2_Quote (--quote) of the real TPM;
#  - corrupted, reordered, missing and duplicated pieces are detected and
#    named;
#  - full and fast mode times with 20 pieces or more.
#
# The records the earlier tests trimmed are in $IMATEST_SAVED: they become
# the store's first piece, and at the end the store is written back there,
# so the tests after this one still replay saved + live to the TPM.
#
# Needs: CONFIG_IMA_LOG_SNAPSHOT (SKIP on a kernel booted with
# imatest.config=off, FAIL elsewhere), a TPM, evmctl.

KSFT_SKIP=4
S=/sys/kernel/security/ima
T=/sys/class/tpm/tpm0
H=$(cd "$(dirname "$0")" && pwd)
A=$H/ima_snapshot_agent
V=$H/ima_verify
SAVED=${IMATEST_SAVED:-/tmp/ima-saved-snapshots.bin}
W=/tmp/agent-test
D=$W/store

skip() { echo "SKIP: $*"; exit $KSFT_SKIP; }

[ "$(id -u)" = 0 ] || skip "must run as root"
if [ ! -e $S/snapshot ]; then
	grep -q 'imatest.config=off' /proc/cmdline &&
		skip "CONFIG_IMA_LOG_SNAPSHOT is off"
	echo "not ok 1 no $S/snapshot: CONFIG_IMA_LOG_SNAPSHOT is off?"
	exit 1
fi
if [ ! -d $T ]; then
	grep -q 'imatest.tpm=required' /proc/cmdline &&
		{ echo "not ok 1 no TPM, but the harness attached one"; exit 1; }
	skip "no TPM"
fi
command -v evmctl > /dev/null || skip "evmctl (ima-evm-utils) not installed"

n=0 failed=0
ok() {
	n=$((n + 1))
	echo "ok $n $*"
}
fail() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n $*"
}
# check DESCRIPTION COMMAND...: ok if COMMAND succeeds; its output goes to
# $W/out and, on failure, to the log.
check() {
	desc=$1
	shift
	if "$@" > $W/out 2>&1; then
		ok "$desc"
	else
		fail "$desc (exit $?)"
		sed 's/^/#   /' $W/out
	fi
}

rm -rf $W
mkdir -p $W $D

# A few records that did not exist before (ima_policy=tcb measures what
# runs from the ramfs root).
g=0
gen() {
	mkdir -p /agent-gen
	i=0
	while [ $i -lt "$1" ]; do
		g=$((g + 1))
		f=/agent-gen/r$g
		printf '#!/bin/sh\n# %s\n' "$f" > $f
		chmod +x $f
		$f
		rm -f $f
		i=$((i + 1))
	done
}

# The records trimmed before this test are the first piece of the store.
trimmed=$(cat $S/runtime_measurements_trimmed)
if [ "$trimmed" -gt 0 ]; then
	if [ ! -s "$SAVED" ]; then
		echo "not ok 1 $trimmed records were trimmed, but $SAVED is empty"
		exit 1
	fi
	cp "$SAVED" "$D/$(printf 'piece-%020d-%020d.bin' 0 "$trimmed")"
fi

# evmctl ima_measurement on the stitched log against the TPM's PCRs.
evm() {
	"$A" --dir $D --stitch > $W/full.bin || return 1
	for b in sha1 sha256; do
		i=0
		: > $W/pcrs-$b
		while [ $i -lt 24 ]; do
			printf 'PCR-%02d: %s\n' $i "$(cat $T/pcr-$b/$i)" >> $W/pcrs-$b
			i=$((i + 1))
		done
	done
	evmctl ima_measurement --pcrs sha1,$W/pcrs-sha1 \
		--pcrs sha256,$W/pcrs-sha256 $W/full.bin > $W/evm.out 2>&1
	rc=$?
	# evmctl exits 0 when it could not read any PCR: ask for the match.
	grep -q "Matched per TPM bank" $W/evm.out && [ $rc = 0 ] && return 0
	cat $W/evm.out
	return 1
}

check "full verification before any agent snapshot" "$V" --dir $D \
	--save-state $W/state
[ -s $W/state ] || cp /dev/null $W/state

# --- many snapshots between workloads ------------------------------------
snaps=0 vfail=0 efail=0 ffail=0
while [ $snaps -lt 20 ]; do
	gen 3
	if ! "$A" --dir $D > $W/agent.out 2>&1; then
		cat $W/agent.out
		break
	fi
	snaps=$((snaps + 1))
	"$V" --dir $D --quiet > $W/v.out 2>&1 || { vfail=$((vfail + 1)); cat $W/v.out; }
	evm || efail=$((efail + 1))
	if [ -s $W/state ]; then
		"$V" --dir $D --state $W/state --save-state $W/state.new --quiet \
			> $W/f.out 2>&1 || { ffail=$((ffail + 1)); cat $W/f.out; }
		mv $W/state.new $W/state 2>/dev/null
	else
		"$V" --dir $D --save-state $W/state --quiet > /dev/null 2>&1
	fi
done
pieces=$(ls $D | grep -c '^piece-')
if [ $snaps = 20 ]; then
	ok "20 agent snapshots between workloads ($pieces pieces)"
else
	fail "agent snapshot $((snaps + 1)) of 20 failed"
fi
if [ $vfail = 0 ] && [ $snaps -gt 0 ]; then
	ok "the verifier (full mode) passed after each of $snaps snapshots"
else
	fail "the verifier failed after $vfail of $snaps snapshots"
fi
if [ $efail = 0 ] && [ $snaps -gt 0 ]; then
	ok "evmctl ima_measurement on --stitch matched the TPM after each snapshot"
else
	fail "evmctl did not match the TPM after $efail of $snaps snapshots"
fi
if [ $ffail = 0 ] && [ $snaps -gt 0 ]; then
	ok "fast mode from the previous state passed after each snapshot"
else
	fail "fast mode failed after $ffail of $snaps snapshots"
fi

# --- the agent killed at every step --------------------------------------
for step in open copy rename finalize; do
	gen 2
	before=$(ls $D | grep -c '^piece-')
	IMA_AGENT_STOP_AT=$step "$A" --dir $D > $W/agent.out 2>&1
	rc=$?
	"$A" --dir $D --recover > $W/recover.out 2>&1
	rrc=$?
	after=$(ls $D | grep -c '^piece-')
	"$V" --dir $D > $W/v.out 2>&1
	vrc=$?
	# A second run takes the snapshot the killed one did not finish.
	"$A" --dir $D > $W/agent2.out 2>&1
	arc=$?
	"$V" --dir $D > $W/v2.out 2>&1
	v2rc=$?
	if [ $rc = 137 ] && [ $rrc = 0 ] && [ "$after" = "$before" ] &&
	   [ $vrc = 0 ] && [ $arc = 0 ] && [ $v2rc = 0 ] &&
	   ! ls -a $D | grep -q '^\.tmp'; then
		ok "agent killed at $step: recovered, nothing lost or saved twice, the log verifies"
	else
		fail "agent killed at $step: exit $rc, recover $rrc," \
			"pieces $before -> $after, verify $vrc, next run $arc, verify $v2rc"
		cat $W/agent.out $W/recover.out $W/v.out $W/agent2.out $W/v2.out | sed 's/^/#   /'
	fi
done

# --- a real TPM2_Quote -----------------------------------------------------
check "the verifier checks a TPM2_Quote of PCR 10 against the replay" \
	"$V" --dir $D --quote
grep -q "quote" $W/out || fail "--quote said nothing about the quote"

# --- times with 20 pieces or more ----------------------------------------
"$V" --dir $D --save-state $W/state > /dev/null 2>&1
gen 5
# Ten runs of each, PCRs from a file: the replay, not the TPM, is timed.
for b in sha1 sha256; do
	echo "$b:PCR10:$(cat $T/pcr-$b/10)"
done > $W/pcrs
t0=$(cut -d' ' -f1 /proc/uptime)
for i in 1 2 3 4 5 6 7 8 9 10; do
	"$V" --dir $D --pcrs $W/pcrs --quiet > /dev/null 2>&1
done
t1=$(cut -d' ' -f1 /proc/uptime)
for i in 1 2 3 4 5 6 7 8 9 10; do
	"$V" --dir $D --pcrs $W/pcrs --state $W/state --quiet > /dev/null 2>&1
done
t2=$(cut -d' ' -f1 /proc/uptime)
pieces=$(ls $D | grep -c '^piece-')
records=$(cat $S/runtime_measurements_count)
full=$(awk "BEGIN { print ($t1 - $t0) * 100 }")
fast=$(awk "BEGIN { print ($t2 - $t1) * 100 }")
echo "# verifier, $pieces pieces, $records records: full $full ms, fast $fast ms a run"

# --- damaged stores are detected and named --------------------------------
# damaged DESCRIPTION WHAT-TO-GREP: the verifier on $W/bad must fail (exit
# 1) and name WHAT-TO-GREP.
damaged() {
	"$V" --dir $W/bad > $W/bad.out 2>&1
	rc=$?
	if [ $rc = 1 ] && grep -q "verdict: FAIL" $W/bad.out &&
	   grep -q -- "$2" $W/bad.out; then
		ok "$1 is detected and named"
	else
		fail "$1: verifier exit $rc, expected 1 naming $2"
		sed 's/^/#   /' $W/bad.out
	fi
}
set -- $(ls $D | grep '^piece-' | sort)
p2=$2 p3=$3 p4=$4
fresh() { rm -rf $W/bad; cp -a $D $W/bad; }

fresh
size=$(wc -c < $W/bad/$p3)
printf '\377' | dd of=$W/bad/$p3 bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
damaged "a corrupted piece" "$p3"
fresh
mv $W/bad/$p3 $W/bad/tmp && mv $W/bad/$p4 $W/bad/$p3 && mv $W/bad/tmp $W/bad/$p4
damaged "two pieces swapped" "$p3"
fresh
rm $W/bad/$p3
damaged "a missing piece" "$p4"
fresh
cp $W/bad/$p2 $W/bad/$p3
damaged "a duplicated piece" "$p3"

# The tests after this one replay $IMATEST_SAVED + the live list.
cat $(ls -d $D/piece-* | sort) > "$SAVED.new" && mv "$SAVED.new" "$SAVED" && sync

echo "# $n tests, $failed failed"
[ $failed = 0 ]
