#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Bisectability: build bzImage at every commit of the applied series that
# changes what the kernel build reads (anything outside Documentation/ and
# tools/), in each of the build directories given, then return to the tip
# of the series.  Fails on the first commit that does not build, or that
# builds with a warning.
#
# Usage: bisect-build.sh SRCDIR BUILDDIR...
set -uo pipefail

src=$1
shift
rc=0
cd "$src" || exit 2
tip=$(git rev-parse series)
# An older commit's Kconfig may not know an option of the .config, and
# its build would drop it: build each commit from the .config as it is
# now, and put it back at the end.
saved=$(mktemp -d)
trap 'rm -rf "$saved"' EXIT
i=0
for b in "$@"; do
	cp "$b/.config" "$saved/$i"
	i=$((i + 1))
done
for c in $(git rev-list --reverse pristine..series); do
	subject=$(git log -1 --format=%s "$c")
	if ! git diff --name-only "$c~1" "$c" | grep -qv '^\(Documentation\|tools\)/'; then
		echo "  SKIP    $subject (no kernel source)"
		continue
	fi
	git checkout -q "$c" || { rc=1; break; }
	i=0
	for b in "$@"; do
		cp "$saved/$i" "$b/.config"
		i=$((i + 1))
		log=$(mktemp)
		if make -s O="$b" ARCH=x86_64 -j"$(nproc)" bzImage > "$log" 2>&1 &&
		   ! grep -q 'warning:' "$log"; then
			echo "  OK      $subject ($(basename "$b"))"
		else
			echo "  FAIL    $subject ($(basename "$b")):"
			grep -m 20 -i 'error\|warning' "$log"
			rc=1
		fi
		rm -f "$log"
	done
	[ $rc -eq 0 ] || break
done
git checkout -q series
[ "$(git rev-parse HEAD)" = "$tip" ] || rc=1
i=0
for b in "$@"; do
	cp "$saved/$i" "$b/.config"
	i=$((i + 1))
done
exit $rc
