#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Unpack Debian's linux-source-6.12 into the cache once and make it a git
# repository whose first commit (tag "pristine") is the unmodified tree.
# Usage: prepare-source.sh SRCDIR
set -euo pipefail

src=${1:?usage: prepare-source.sh SRCDIR}
tarball=/usr/src/linux-source-6.12.tar.xz

if git -C "$src" rev-parse -q --verify refs/tags/pristine >/dev/null 2>&1; then
	exit 0
fi

[ -r "$tarball" ] || { echo "prepare-source: $tarball missing (run 'make deps')" >&2; exit 1; }

tmp="$src.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
echo "  UNPACK  $tarball"
tar -C "$tmp" --strip-components=1 -xJf "$tarball"
cd "$tmp"
git init -q
git config user.name "IMA snapshot build"
git config user.email "build@localhost"
git config gc.auto 0
git config core.autocrlf false
echo "  GIT     pristine commit (takes a minute)"
# The Debian tree ships some ignored files; force them in so that the
# pristine commit is exactly the tarball.
git add -f -A .
git commit -q -m "Linux $(make -s kernelversion 2>/dev/null) (Debian linux-source-6.12 $(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null))"
git tag pristine
cd /
rm -rf "$src"
mv "$tmp" "$src"
trap - EXIT
echo "  READY   $src"
