#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the guest initramfs: busybox-static, the guest scripts, the
# installed IMA selftests, kexec and evmctl, and every shared library they
# need (found with ldd, so the guest runs the host's binaries unchanged).
#
# Usage: mkinitramfs.sh REPO SELFTESTS_INSTALL_DIR OUT.cpio.gz
set -euo pipefail

repo=$1 tests=$2 out=$3
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,mnt,etc,root,usr/lib/imatest,usr/lib/kselftest}
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
mknod -m 600 "$root/dev/console" c 5 1
mknod -m 666 "$root/dev/null" c 1 3
install -m 755 "$repo/guest/init" "$root/init"
install -m 755 "$repo"/guest/*.sh "$root/usr/lib/imatest/"
cp -a "$tests" "$root/usr/lib/kselftest/ima"
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "nobody:x:65534:65534:nobody:/:/bin/sh" >> "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"

bins=(/sbin/kexec /usr/bin/evmctl)
for b in "${bins[@]}"; do
	[ -x "$b" ] || { echo "mkinitramfs: $b missing (run 'make deps')" >&2; exit 1; }
	cp "$b" "$root/bin/"
done

# Shared libraries of every ELF we ship, with the dynamic loader.
elfs=("${bins[@]}")
while IFS= read -r -d '' f; do
	if head -c 4 "$f" | grep -q ELF; then
		elfs+=("$f")
	fi
done < <(find "$tests" -type f -perm -u+x -print0)
for e in "${elfs[@]}"; do
	ldd "$e" 2>/dev/null | grep -oE '/[^ ]+' || true
done | sort -u | while read -r lib; do
	[ -e "$lib" ] || continue
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
# Debian's kexec and evmctl use /lib64 for the loader path.
if [ -e /lib64/ld-linux-x86-64.so.2 ]; then
	mkdir -p "$root/lib64"
	cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
fi

(cd "$root" && find . -print0 | sort -z | cpio --null -o -H newc --quiet) | gzip -1 > "$out.tmp"
mv "$out.tmp" "$out"
