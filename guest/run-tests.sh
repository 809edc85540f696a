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
n=$(echo "$tests" | wc -w)
pass=0 fail=0 skip=0 i=0
{
	echo "TAP version 13"
	echo "1..$n"
} > "$R/tap.txt"
for t in $tests; do
	i=$((i + 1))
	echo "# running $t"
	busybox timeout "$limit" "./$t" > "$R/$t.log" 2>&1
	rc=$?
	case $rc in
	0) echo "ok $i $t" >> "$R/tap.txt"; pass=$((pass + 1)) ;;
	4) echo "ok $i $t # SKIP $(grep -m1 -i skip "$R/$t.log" | cut -c1-200)" >> "$R/tap.txt"
	   skip=$((skip + 1)) ;;
	143|137) echo "not ok $i $t # TIMEOUT ${limit}s" >> "$R/tap.txt"; fail=$((fail + 1)) ;;
	*) echo "not ok $i $t # exit=$rc" >> "$R/tap.txt"; fail=$((fail + 1)) ;;
	esac
done
echo "# $pass passed, $fail failed, $skip skipped" >> "$R/tap.txt"
if [ $fail -ne 0 ]; then
	echo fail > "$R/verdict"
elif [ $pass -eq 0 ]; then
	echo skip > "$R/verdict"
else
	echo pass > "$R/verdict"
fi
