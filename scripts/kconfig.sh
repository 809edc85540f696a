#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Make BUILDDIR/.config = x86_64 tinyconfig + FRAGMENTS, then check that
# every option of the fragments really has the value it asks for
# (olddefconfig silently drops options whose dependencies are not met).
# Skipped when the fragments did not change since the last run and the
# .config still has every option they ask for (building an older commit
# of the series in BUILDDIR can drop an option its Kconfig lacks).
#
# Usage: kconfig.sh SRCDIR BUILDDIR FRAGMENT...
set -euo pipefail

src=$1 out=$2
shift 2
mkdir -p "$out"
stamp=$out/.fragments.sha
sum=$(cat "$@" | sha256sum | cut -d' ' -f1)

# Print what the .config lacks of the fragments; fail if anything.
verify() {
	local bad=0 line opt want have
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			opt=${line%%=*}
			want=$line
			;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			want=$line
			;;
		*) continue ;;
		esac
		have=$(grep -E "^($opt=|# $opt is not set)" "$out/.config" || true)
		if [ "$want" = "# $opt is not set" ] && [ -z "$have" ]; then
			continue	# not visible at all: unset is what we asked
		fi
		if [ "$have" != "$want" ]; then
			echo "kconfig: $opt: asked '$want', got '${have:-<absent>}'"
			bad=1
		fi
	done < <(cat "$@")
	return $bad
}

if [ -f "$out/.config" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ] &&
   verify "$@" > /dev/null; then
	exit 0
fi

echo "  KCONFIG $out: tinyconfig + $*"
make -s -C "$src" O="$out" ARCH=x86_64 tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$@" >/dev/null
make -s -C "$src" O="$out" ARCH=x86_64 olddefconfig >/dev/null

if ! verify "$@" >&2; then
	echo "kconfig: the fragment did not survive olddefconfig (unmet dependencies?)" >&2
	rm -f "$stamp"
	exit 1
fi
echo "$sum" > "$stamp"
