#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# 'make docs': build Documentation/security with the kernel's Sphinx setup
# (Debian's python3-sphinx) and validate the ABI files; fail on any
# warning about a file the series adds or changes.  Warnings about other
# documents (cross-references outside SPHINXDIRS) are upstream's.
# Usage: docs.sh SRCDIR BUILDDIR
set -uo pipefail

src=$1 out=$2
# The kernel's Sphinx extensions need Debian's python3 and its modules.
export PATH=/usr/bin:$PATH
mine=$(git -C "$src" diff --name-only pristine series -- Documentation | tr '\n' '|')
mine=${mine%|}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
touch "$src"/Documentation/security/*.rst	# rebuild, so warnings show
if ! make -s -C "$src" O="$out" SPHINXDIRS=security htmldocs > "$log" 2>&1; then
	cat "$log"
	echo "  FAIL    htmldocs (SPHINXDIRS=security)"
	rc=1
elif grep -E "($mine).*(WARNING|ERROR)" "$log"; then
	echo "  FAIL    Sphinx warnings in the series' documents"
	rc=1
else
	echo "  OK      htmldocs SPHINXDIRS=security: no warning in $(echo "$mine" | tr '|' ' ')"
fi
abi=$(cd "$src" && perl scripts/get_abi.pl validate --dir Documentation/ABI 2>&1)
if [ -n "$abi" ]; then
	echo "$abi"
	echo "  FAIL    scripts/get_abi.pl validate"
	rc=1
else
	echo "  OK      scripts/get_abi.pl validate"
fi
exit $rc
