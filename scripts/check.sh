#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make check': checkpatch on the series, every patch built (bisect), the
# verifier's host test, then 'make test' on every kernel variant (the
# feature on, off, and the debug kernel), then one summary line for all of
# them.  Runs every step even after a failure, so that one run shows
# everything that is wrong; exits non-zero if any step failed.
# Usage: check.sh [VARIANT...]   (default: default off debug)
set -uo pipefail
cd "$(dirname "$0")/.."

variants=("$@")
[ ${#variants[@]} -eq 0 ] && variants=(default off debug)
pass=0 fail=0 skip=0 failed=()

# step NAME TITLE COMMAND...: run a step that passes or fails as a whole.
step() {
	local name=$1 title=$2
	shift 2
	echo "==== $title"
	if "$@"; then
		pass=$((pass + 1))
	else
		failed+=("$name")
		fail=$((fail + 1))
	fi
}

step checkpatch "checkpatch" make -s checkpatch
step docs "docs: Sphinx (Documentation/security) and ABI validation" make -s docs
step bisect "bisect: every patch builds, option on and off" make -s bisect
# The verifier on synthetic logs, on the host (swtpm for --quote).
echo "==== host: ima_verify_host_test.sh"
log=$(mktemp)
bash tools/testing/selftests/ima/ima_verify_host_test.sh 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
rm -f "$log"
if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
	failed+=("ima_verify_host_test")
	fail=$((fail + 1))
else
	pass=$((pass + 1))
fi

for v in "${variants[@]}"; do
	echo "==== make test CONFIG=$v"
	log=$(mktemp)
	make -s test CONFIG="$v" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	rm -f "$log"
	if [ -n "$line" ]; then
		read -r p _ f _ s _ <<< "$(echo "$line" | tr -d ',')"
		pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + ${s:-0}))
	fi
	if [ "$rc" -ne 0 ]; then
		failed+=("test CONFIG=$v")
		[ -z "$line" ] && fail=$((fail + 1))
	fi
done
echo "===="
[ ${#failed[@]} -ne 0 ] && echo "FAILED: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ ${#failed[@]} -eq 0 ]
