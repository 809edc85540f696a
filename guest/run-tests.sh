#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run every test listed in DIR/tests (one name a line, as installed by the
# selftests Makefile) with a time limit, keep each test's output, and write
# a TAP summary and the verdict into RESULTS.  Exit status 4 is a kselftest
# SKIP.  Usage: run-tests.sh DIR RESULTS
dir=$1 R=$2
limit=${IMATEST_TIMEOUT:-300}
cd "$dir" || { echo fail > "$R/verdict"; exit 1; }

tests=$(cat tests)
# imatest.tests=a,b on the kernel command line runs only those tests.
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	imatest.tests=*)
		only=" $(echo "${arg#imatest.tests=}" | tr ',' ' ') "
		tests=$(for t in $tests; do
			case "$only" in *" $t "*) echo "$t" ;; esac
		done)
		;;
	imatest.timeout=*) limit=${arg#imatest.timeout=} ;;
	esac
done
n=$(echo "$tests" | wc -w)

# A test that kexecs is run again by the next kernel (RESULTS is then on a
# disk that survives kexec): resume at the test that was running.
start=1
if [ -f "$R/run-next" ]; then
	start=$(cat "$R/run-next")
	echo "# resuming at test $start after kexec"
else
	: > "$R/tap.lines"
fi
i=0
for t in $tests; do
	i=$((i + 1))
	[ $i -lt "$start" ] && continue
	echo $i > "$R/run-next"
	sync
	echo "# running $t"
	# A heartbeat on the console for long tests (the host's watchdog
	# kills a guest whose console is silent); the time limit still holds.
	busybox timeout "$limit" "./$t" >> "$R/$t.log" 2>&1 &
	pid=$! secs=0
	while kill -0 $pid 2>/dev/null; do
		sleep 1
		secs=$((secs + 1))
		[ $((secs % 120)) -eq 0 ] && echo "# $t: running for ${secs}s"
	done
	wait $pid
	rc=$?
	case $rc in
	0) echo "ok $i $t" ;;
	4) echo "ok $i $t # SKIP $(grep -m1 -i skip "$R/$t.log" | cut -c1-200)" ;;
	143|137) echo "not ok $i $t # TIMEOUT ${limit}s" ;;
	*) echo "not ok $i $t # exit=$rc" ;;
	esac >> "$R/tap.lines"
done
echo $((n + 1)) > "$R/run-next"

skip=$(grep -c '^ok .* # SKIP' "$R/tap.lines")
pass=$(($(grep -c '^ok' "$R/tap.lines") - skip))
fail=$(grep -c '^not ok' "$R/tap.lines")
{
	echo "TAP version 13"
	echo "1..$n"
	cat "$R/tap.lines"
	echo "# $pass passed, $fail failed, $skip skipped"
} > "$R/tap.txt"
if [ $fail -ne 0 ]; then
	echo fail > "$R/verdict"
elif [ $pass -eq 0 ]; then
	echo skip > "$R/verdict"
else
	echo pass > "$R/verdict"
fi
