#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Host test of ima_verify, the IMA log chain verifier: no kernel with
# CONFIG_IMA_LOG_SNAPSHOT is needed.  ima_mklog writes a synthetic history
# (ima-ng records, a violation, a record on PCR 11, and snapshot_aggregate
# records formatted as the kernel formats them) split into piece files and
# a live list; ima_verify must accept it in full and fast mode and reject
# each kind of damage with a message that names it.  The history then goes
# on with more snapshots, and a chain of fast runs, each from the state
# the one before saved, must follow it reading only the pieces since its
# state (the older ones are replaced with garbage).  If swtpm and
# tpm2-tools are installed, --quote is run against a swtpm whose PCR 10
# was extended to match the history.
#
# Run it from anywhere, as any user:
#   it builds ima_verify and ima_mklog with gcc into a temporary directory,
#   unless IMA_VERIFY and IMA_MKLOG name binaries to use.  SWTPM_PORT
#   (default 2321; SWTPM_PORT + 1 is the control port) picks the swtpm
#   TCP ports.  Exits 0 if every check passed.

set -u

HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/ima_verify_test.XXXXXX)
SWTPM_PID=
SWTPM_CTRL=
passed=0
failed=0

cleanup()
{
	if [ -n "$SWTPM_PID" ] && kill -0 "$SWTPM_PID" 2>/dev/null; then
		swtpm_ioctl --tcp "127.0.0.1:$SWTPM_CTRL" -s >/dev/null 2>&1
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$SWTPM_PID" 2>/dev/null || break
			sleep 0.5
		done
		kill "$SWTPM_PID" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT

pass()
{
	echo "ok: $1"
	passed=$((passed + 1))
}

fail()
{
	echo "FAIL: $1"
	failed=$((failed + 1))
}

# expect_ok NAME CMD...: exit status 0 and "verdict: ok".
expect_ok()
{
	local name=$1 rc

	shift
	"$@" >"$T/out" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^verdict: ok$' "$T/out"; then
		pass "$name"
	else
		fail "$name (exit $rc)"
		sed 's/^/    /' "$T/out"
	fi
}

# expect_fail NAME RC PATTERN CMD...: exit status RC, and a verdict line
# of FAIL whose message matches PATTERN (grep -E).
expect_fail()
{
	local name=$1 want=$2 pat=$3 rc

	shift 3
	"$@" >"$T/out" 2>&1
	rc=$?
	if [ $rc -eq "$want" ] && grep -E "^verdict: FAIL: .*($pat)" "$T/out" >/dev/null; then
		pass "$name: $(grep '^verdict:' "$T/out" | cut -c1-150)"
	else
		fail "$name (exit $rc, wanted $want and /$pat/)"
		sed 's/^/    /' "$T/out"
	fi
}

# --- build -------------------------------------------------------------------

VERIFY=${IMA_VERIFY:-}
MKLOG=${IMA_MKLOG:-}
CFLAGS="-Wall -Wextra -Wno-unused-parameter -O2"
if [ -z "$VERIFY" ]; then
	VERIFY=$T/ima_verify
	if ! gcc $CFLAGS -o "$VERIFY" "$HERE/ima_verify.c" "$HERE/imalog.c" \
	     -lcrypto -ltss2-esys -ltss2-mu -ltss2-tcti-device -ltss2-tctildr; then
		echo "cannot build ima_verify"
		exit 1
	fi
fi
if [ -z "$MKLOG" ]; then
	MKLOG=$T/ima_mklog
	if ! gcc $CFLAGS -o "$MKLOG" "$HERE/ima_mklog.c" "$HERE/imalog.c" \
	     -lcrypto; then
		echo "cannot build ima_mklog"
		exit 1
	fi
fi

# --- the synthetic history ---------------------------------------------------
#
# Record 0 is boot_aggregate; then r: a file, v: a violation, p: a file on
# PCR 11, a: a snapshot opened but not finalized, s: a snapshot finalized.
# Three pieces of five records each: 0-5, 5-10 (with the violation),
# 10-15 (with the unfinalized marker at 12 and the PCR 11 record), and the
# live list 15-18 starting with the marker of record 15.
SPEC=rrrrsrrvrsrarpsrrr
H=$T/h
mkdir -p "$H/pieces"
if ! "$MKLOG" --dir "$H/pieces" --live "$H/live" --pcrs "$H/pcrs" \
     --extends "$H/extends" "$SPEC" >/dev/null; then
	echo "ima_mklog failed"
	exit 1
fi
piece()
{
	printf 'piece-%020d-%020d.bin' "$1" "$2"
}
P0=$(piece 0 5)
P1=$(piece 5 10)
P2=$(piece 10 15)
for p in "$P0" "$P1" "$P2"; do
	[ -f "$H/pieces/$p" ] || { echo "ima_mklog did not write $p"; exit 1; }
done

V()
{
	"$VERIFY" --live "$H/live" --pcrs "$H/pcrs" "$@"
}

# A fresh copy of the pieces, to damage.
copy()
{
	rm -rf "$T/c"
	cp -r "$H/pieces" "$T/c"
}

# --- full and fast mode ------------------------------------------------------

expect_ok "full mode accepts the history" V --dir "$H/pieces" \
	--save-state "$T/state"
if grep -q '^Measurement_Count=15$' "$T/state" 2>/dev/null &&
   grep -q '^sha256:PCR10:' "$T/state" && grep -q '^sha1:PCR11:' "$T/state"; then
	pass "--save-state saved the marker of record 15 (PCR 10 and 11)"
else
	fail "--save-state did not save the marker of record 15"
fi
expect_ok "fast mode accepts the live list from the saved state" \
	V --dir "$H/pieces" --state "$T/state"

# Fast mode reads no piece before the state's record: damaged or absent
# pieces there do not matter.
copy
rm -f "$T/c/$P1"
printf 'garbage' >"$T/c/$P2"
expect_ok "fast mode reads no piece before the state" V --dir "$T/c" \
	--state "$T/state"

V --dir "$H/pieces" --quiet >"$T/out" 2>&1
if [ "$(wc -l <"$T/out")" -eq 1 ] && grep -q '^verdict: ok$' "$T/out"; then
	pass "--quiet prints only the verdict"
else
	fail "--quiet printed more than the verdict"
	sed 's/^/    /' "$T/out"
fi

# The live list from $IMA_SECURITYFS/binary_runtime_measurements.
mkdir -p "$T/secfs"
cp "$H/live" "$T/secfs/binary_runtime_measurements"
expect_ok "the live list defaults to \$IMA_SECURITYFS" \
	env IMA_SECURITYFS="$T/secfs" "$VERIFY" --dir "$H/pieces" \
	--pcrs "$H/pcrs"

# An agent killed between saving a piece and finalizing it: the piece
# holds the records still at the head of the live list; it is skipped.
copy
cp "$H/live" "$T/c/$(piece 15 19)"
expect_ok "a saved but unfinalized piece (interrupted agent) is skipped" \
	V --dir "$T/c"

# --- damage ------------------------------------------------------------------

copy
f=$T/c/$P1
printf '\001' | dd of="$f" bs=1 seek=$(($(stat -c %s "$f") - 1)) \
	conv=notrunc 2>/dev/null
expect_fail "a corrupted byte in a piece" 1 \
	"$P1: record 9: its sha1 template digest does not match" V --dir "$T/c"

copy
mv "$T/c/$P1" "$T/c/x"
mv "$T/c/$P2" "$T/c/$P1"
mv "$T/c/x" "$T/c/$P2"
expect_fail "two pieces swapped (renamed)" 1 \
	"$P1: record 5: the piece starts with the snapshot_aggregate record of record 10" \
	V --dir "$T/c"

copy
rm "$T/c/$P1"
expect_fail "a missing piece" 1 "$P2: gap: records 5 to 9 are in no piece" \
	V --dir "$T/c"

copy
rm "$T/c/$P2"
expect_fail "the last piece missing" 1 \
	"live list: record 10: .* of record 15, but the pieces end at record 10" \
	V --dir "$T/c"

copy
cp "$T/c/$P1" "$T/c/$P2"
expect_fail "a piece duplicated in place of the next" 1 \
	"$P2: record 10: the piece starts with the snapshot_aggregate record of record 5" \
	V --dir "$T/c"

copy
cat "$T/c/$P1" "$T/c/$P2" >"$T/c/$(piece 5 15)"
expect_fail "a duplicated piece (the same records in two pieces)" 1 \
	"$(piece 5 15): overlap: .* at record 10 \(duplicate records 5 to 9\)" \
	V --dir "$T/c"

copy
mv "$T/c/$P2" "$T/c/$(piece 10 16)"
expect_fail "a piece of the wrong size for its name" 1 \
	"holds 5 records, its name says 6" V --dir "$T/c"

copy
cp "$T/c/$P0" "$T/c/piece-copy.bin"
expect_fail "a piece-*.bin file not named as IMA_PIECE_FMT" 1 \
	"piece-copy.bin: not a piece-<START>-<END>.bin name" V --dir "$T/c"

sed 's/^\(sha256:PCR10:\)./\1f/; t; s/^\(sha256:PCR10:\)./\1e/' "$H/pcrs" \
	>"$T/pcrs.bad"
cmp -s "$H/pcrs" "$T/pcrs.bad" && sed -i 's/^\(sha256:PCR10:\)./\10/' "$T/pcrs.bad"
expect_fail "a wrong --pcrs value" 1 "bank sha256: PCR10 differs: replay" \
	"$VERIFY" --live "$H/live" --pcrs "$T/pcrs.bad" --dir "$H/pieces"

# Record 7 rewritten with a matching sha1 template digest: only the PCR
# values and the Segment_Digest in the next marker expose it.
mkdir -p "$T/f/pieces"
"$MKLOG" --dir "$T/f/pieces" --live "$T/f/live" --tamper 7 "$SPEC" >/dev/null
expect_fail "a forged record with a recomputed template digest" 1 \
	"$P2: record 10: the Segment_Digest of the snapshot_aggregate record does not match" \
	"$VERIFY" --dir "$T/f/pieces" --live "$T/f/live" --pcrs "$H/pcrs"

# Fast mode must not trust a state the live list does not agree with.
sed 's/^\(sha256:PCR10:\)./\1f/; t; s/^\(sha256:PCR10:\)./\1e/' "$T/state" \
	>"$T/state.bad"
cmp -s "$T/state" "$T/state.bad" && sed -i 's/^\(sha256:PCR10:\)./\10/' "$T/state.bad"
expect_fail "fast mode with a state of other PCR values" 1 \
	"record 15: the snapshot_aggregate record holds sha256:PCR10 .*, the state gives" \
	V --dir "$H/pieces" --state "$T/state.bad"

# --- fast mode after more snapshots ------------------------------------------
#
# The agent goes on: the same history, two more records and a snapshot
# later (a new piece 15-21, the live list from the marker of record 21 on),
# then two snapshots more (pieces 21-25 and 25-28, the live list from 28),
# then one more (piece 28-31, the live list from 31).  Fast mode from the
# state of record 15 replays only piece 15-21 and the live list; each fast
# run's --save-state serves the next one.

# mkhistory NAME SPEC: the history SPEC in $T/NAME/{pieces,live,pcrs}.
mkhistory()
{
	mkdir -p "$T/$1/pieces"
	if ! "$MKLOG" --dir "$T/$1/pieces" --live "$T/$1/live" \
	     --pcrs "$T/$1/pcrs" "$2" >/dev/null; then
		echo "ima_mklog failed"
		exit 1
	fi
}

# Vh NAME ARGS...: ima_verify on the live list and PCR values of $T/NAME.
Vh()
{
	local h=$1

	shift
	"$VERIFY" --live "$T/$h/live" --pcrs "$T/$h/pcrs" "$@"
}

# garble DIR N: copy DIR to DIR.g, with the contents of the pieces that
# end at or before record N replaced by garbage.
garble()
{
	local f end

	rm -rf "$1.g"
	cp -r "$1" "$1.g"
	for f in "$1.g"/piece-*.bin; do
		end=${f##*-}
		end=$((10#${end%.bin}))
		if [ "$end" -le "$2" ]; then
			printf 'garbage' >"$f"
		fi
	done
}

# read_only WHAT PIECE...: the run in $T/out replayed exactly the pieces
# named, in this order.
read_only()
{
	local what=$1 want="" got p

	shift
	for p in "$@"; do
		want="${want}piece $p"$'\n'
	done
	got=$(grep '^piece ' "$T/out" | sed 's/: .*//')
	if [ "$got"$'\n' = "$want" ] || { [ -z "$got" ] && [ -z "$want" ]; }; then
		pass "$what: read only ${*:-the live list}"
	else
		fail "$what: read other pieces than ${*:-none}"
		sed 's/^/    /' "$T/out"
	fi
}

# saved_at FILE N: the state FILE is for the marker of record N.
saved_at()
{
	if grep -q "^Measurement_Count=$2\$" "$1" 2>/dev/null &&
	   grep -q '^sha256:PCR10:' "$1" && grep -q '^sha1:PCR11:' "$1"; then
		pass "--save-state saved the marker of record $2"
	else
		fail "--save-state did not save the marker of record $2"
	fi
}

SPEC2=${SPEC}rrsr
mkhistory g "$SPEC2"
P3=$(piece 15 21)
same=1
for p in "$P0" "$P1" "$P2"; do
	cmp -s "$H/pieces/$p" "$T/g/pieces/$p" || same=
done
if [ -n "$same" ] && [ -f "$T/g/pieces/$P3" ]; then
	pass "another snapshot: the same pieces, then $P3"
else
	fail "ima_mklog did not extend the history"
fi
expect_ok "full mode after another snapshot" Vh g --dir "$T/g/pieces" \
	--save-state "$T/state2"
saved_at "$T/state2" 21

garble "$T/g/pieces" 15
expect_fail "full mode reads the pieces before record 15 (now garbage)" 1 \
	"$P0: record 0: malformed record" Vh g --dir "$T/g/pieces.g"
expect_ok "fast mode from the old state after another snapshot" \
	Vh g --dir "$T/g/pieces.g" --state "$T/state" \
	--save-state "$T/state.f1"
read_only "fast mode from record 15" "$P3"
if grep -q '^3 pieces before record 15: not read' "$T/out"; then
	pass "fast mode says it did not read the 3 pieces before record 15"
else
	fail "fast mode did not say it skipped the 3 pieces before record 15"
fi
if cmp -s "$T/state2" "$T/state.f1"; then
	pass "--save-state in fast mode saves what full mode saves (record 21)"
else
	fail "--save-state in fast mode differs from full mode's"
	diff "$T/state2" "$T/state.f1" | sed 's/^/    /'
fi
if command -v strace >/dev/null &&
   strace -f -qq -e trace=open,openat -o "$T/strace" \
	"$VERIFY" --live "$T/g/live" --pcrs "$T/g/pcrs" --dir "$T/g/pieces" \
	--state "$T/state" --quiet >/dev/null 2>&1 &&
   grep -q "$P3" "$T/strace"; then
	if grep -q -e "$P0" -e "$P1" -e "$P2" "$T/strace"; then
		fail "fast mode opened a piece before the state's record"
		grep piece- "$T/strace" | sed 's/^/    /'
	else
		pass "fast mode opened no piece before the state's record (strace)"
	fi
else
	echo "SKIP: strace of fast mode (strace not installed or not allowed)"
fi
expect_ok "fast mode with the new state" Vh g --dir "$T/g/pieces.g" \
	--state "$T/state2"
read_only "fast mode from record 21"

# What fast mode reads is checked as in full mode.
rm -rf "$T/gd"
cp -r "$T/g/pieces.g" "$T/gd"
f=$T/gd/$P3
printf '\001' | dd of="$f" bs=1 seek=$(($(stat -c %s "$f") - 1)) \
	conv=notrunc 2>/dev/null
expect_fail "fast mode: a corrupted byte in a piece since the state" 1 \
	"$P3: record 20: its sha1 template digest does not match" \
	Vh g --dir "$T/gd" --state "$T/state"
expect_fail "fast mode: the marker of the state's record, in a piece, disagrees with the state" 1 \
	"$P3: record 15: the snapshot_aggregate record holds sha256:PCR10 .*, the state gives" \
	Vh g --dir "$T/g/pieces.g" --state "$T/state.bad"
mkdir -p "$T/gf/pieces"
"$MKLOG" --dir "$T/gf/pieces" --live "$T/gf/live" --tamper 17 "$SPEC2" \
	>/dev/null
expect_fail "fast mode: a forged record since the state" 1 \
	"live list: record 21: the Segment_Digest of the snapshot_aggregate record does not match" \
	"$VERIFY" --dir "$T/gf/pieces" --live "$T/gf/live" --pcrs "$T/g/pcrs" \
	--state "$T/state"
rm -rf "$T/gd"
cp -r "$T/g/pieces.g" "$T/gd"
printf 'garbage' >"$T/gd/$(piece 10 16)"
expect_fail "fast mode: a piece across the state's record" 1 \
	"$(piece 10 16): overlap: holds records 10 to 15, across record 15 of the state" \
	Vh g --dir "$T/gd" --state "$T/state"
rm -rf "$T/gd"
cp -r "$T/g/pieces.g" "$T/gd"
printf 'garbage' >"$T/gd/piece-copy.bin"
expect_fail "fast mode: a piece-*.bin file not named as IMA_PIECE_FMT" 1 \
	"piece-copy.bin: not a piece-<START>-<END>.bin name" \
	Vh g --dir "$T/gd" --state "$T/state"
rm -f "$T/gd/piece-copy.bin" "$T/gd/$P3"
expect_fail "fast mode: no piece since the state's record" 1 \
	"no piece or live list starts at record 15 of the state: run a full verification" \
	Vh g --dir "$T/gd" --state "$T/state"
rm -rf "$T/gd"
cp -r "$T/g/pieces.g" "$T/gd"
cp "$T/g/live" "$T/gd/$(piece 21 23)"
expect_ok "fast mode: a saved but unfinalized piece since the state is skipped" \
	Vh g --dir "$T/gd" --state "$T/state"
copy
cp "$H/live" "$T/c/$(piece 15 19)"
expect_ok "fast mode: an unfinalized piece at the state's record is skipped" \
	V --dir "$T/c" --state "$T/state"
mkdir -p "$T/empty"
expect_fail "fast mode with a state older than the live list, no pieces" 1 \
	"no piece or live list starts at record 15 of the state: run a full verification" \
	Vh g --dir "$T/empty" --state "$T/state"

# fast -> fast -> fast, a snapshot or two between the runs.
SPEC3=${SPEC2}rrsrrsr
mkhistory h3 "$SPEC3"
garble "$T/h3/pieces" 21
expect_ok "a second fast run, from the state the first one saved" \
	Vh h3 --dir "$T/h3/pieces.g" --state "$T/state.f1" \
	--save-state "$T/state.f2"
read_only "fast mode from record 21" "$(piece 21 25)" "$(piece 25 28)"
saved_at "$T/state.f2" 28
SPEC4=${SPEC3}rsrr
mkhistory h4 "$SPEC4"
garble "$T/h4/pieces" 28
expect_ok "a third fast run, from the state the second one saved" \
	Vh h4 --dir "$T/h4/pieces.g" --state "$T/state.f2" \
	--save-state "$T/state.f3"
read_only "fast mode from record 28" "$(piece 28 31)"
saved_at "$T/state.f3" 31
garble "$T/h4/pieces" 31
expect_ok "a fourth fast run, no snapshot since the third" \
	Vh h4 --dir "$T/h4/pieces.g" --state "$T/state.f3"
read_only "fast mode from record 31"
expect_fail "the old state, with the pieces since it garbage" 1 \
	"$(piece 15 21): record 15: malformed record" \
	Vh h4 --dir "$T/h4/pieces.g" --state "$T/state"

expect_fail "a missing --dir is an I/O error" 2 "cannot list" \
	V --dir "$T/nonexistent"
"$VERIFY" --pcrs "$H/pcrs" --quote >/dev/null 2>&1
if [ $? -eq 2 ]; then
	pass "--pcrs with --quote is a usage error (exit 2)"
else
	fail "--pcrs with --quote is not a usage error"
fi

# --- --quote against swtpm ---------------------------------------------------

port_busy()
{
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

if ! command -v swtpm >/dev/null || ! command -v tpm2_pcrextend >/dev/null; then
	echo "SKIP: --quote: swtpm or tpm2-tools not installed"
else
	port=${SWTPM_PORT:-2321}
	while port_busy "$port" || port_busy $((port + 1)); do
		port=$((port + 2))
	done
	SWTPM_CTRL=$((port + 1))
	mkdir -p "$T/tpm"
	swtpm socket --tpm2 --server "type=tcp,port=$port" \
		--ctrl "type=tcp,port=$SWTPM_CTRL" --tpmstate "dir=$T/tpm" \
		--flags not-need-init,startup-clear --pid "file=$T/swtpm.pid" \
		>"$T/swtpm.log" 2>&1 &
	SWTPM_PID=$!
	export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$port"
	up=
	for _ in $(seq 20); do
		if tpm2_pcrread sha256:10 >/dev/null 2>&1; then
			up=1
			break
		fi
		sleep 0.25
	done
	if [ -z "$up" ]; then
		fail "--quote: swtpm did not come up on port $port"
		sed 's/^/    /' "$T/swtpm.log"
	else
		ext_ok=1
		while read -r line; do
			tpm2_pcrextend "$line" >/dev/null || ext_ok=
		done <"$H/extends"
		tpm2_pcrread sha1:10+sha256:10 >"$T/tpmpcrs" 2>&1
		if [ -n "$ext_ok" ]; then
			pass "swtpm PCR 10 extended with the $(wc -l <"$H/extends") records"
		else
			fail "tpm2_pcrextend failed"
		fi
		expect_ok "--quote (swtpm, ECDSA P-256 quote of PCR 10 sha1+sha256)" \
			env IMA_VERIFY_TCTI="swtpm:host=127.0.0.1,port=$port" \
			"$VERIFY" --dir "$H/pieces" --live "$H/live" --quote
		if grep -q '^quote: verified' "$T/out" &&
		   grep -q '^quote: pcrDigest equals' "$T/out"; then
			pass "--quote says the quote verified and matches the replay"
		else
			fail "--quote did not say the quote verified"
			sed 's/^/    /' "$T/out"
		fi
		expect_ok "--quote in fast mode" \
			env IMA_VERIFY_TCTI="swtpm:host=127.0.0.1,port=$port" \
			"$VERIFY" --state "$T/state" --dir "$H/pieces" \
			--live "$H/live" --quote
		tpm2_pcrextend 10:sha256=$(printf '%064d' 1) >/dev/null
		expect_fail "--quote after an extend the log does not hold" 1 \
			"pcrDigest differs|PCR10 differs" \
			env IMA_VERIFY_TCTI="swtpm:host=127.0.0.1,port=$port" \
			"$VERIFY" --dir "$H/pieces" --live "$H/live" --quote
	fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
