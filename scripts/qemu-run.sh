#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot a kernel in QEMU with a real software TPM (swtpm), let the guest's
# /init do its job (run the selftests, or the demo), and bring its results
# back over a virtio disk, never through the console.
#
# The guest writes a tar archive of its results directory raw onto the
# first virtio disk; this script unpacks it.  The verdict is the file
# "verdict" in that archive ("pass", "fail" or "skip"), so console noise
# (printk, a crash half-way through a line) cannot be mistaken for a
# result.  No archive means the guest crashed or hung, which is a failure.
#
# Exit status: 0 pass, 1 test failure or kernel splat, 2 guest crash,
# hang or no results, 3 bad usage or host setup problem.
#
# Usage: qemu-run.sh --kernel BZIMAGE --initrd CPIO --out DIR [options]
#   --append STR      extra kernel command line
#   --mode MODE       what the guest's /init runs (imatest.mode=MODE)
#   --timeout SEC     hard limit for the whole run (default 1200)
#   --silence SEC     kill the guest if the console is silent this long
#                     (default 300)
#   --data-disk IMG   attach IMG as the second virtio disk (/dev/vdb), for
#                     data that must survive a kexec
#   --data-dir DIR    the same, with a fresh ext4 disk holding a copy of DIR
#   --mem MB          guest memory (default 512)
#   --smp N           guest CPUs (default 2)
#   --show-console    print the console log while the guest runs
#   --no-tpm          no TPM: IMA runs in TPM-bypass mode
#   --icount SHIFT    deterministic TCG: the guest clock advances 2^SHIFT ns
#                     per instruction and skips idle time, so guest-timed
#                     CPU work measures instructions, not host load
# Environment: QEMU_ACCEL=kvm opts into KVM (default tcg: the KVM on the
# machines we test on is nested and cannot run these guests).
set -uo pipefail

kernel= initrd= out= append= mode=test timeout=1200 silence=300
data_disk= data_dir= mem=512 smp=2 show=0 tpm=1 icount=

die() { echo "qemu-run: $*" >&2; exit 3; }

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel=$2; shift ;;
	--initrd) initrd=$2; shift ;;
	--out) out=$2; shift ;;
	--append) append=$2; shift ;;
	--mode) mode=$2; shift ;;
	--timeout) timeout=$2; shift ;;
	--silence) silence=$2; shift ;;
	--data-disk) data_disk=$2; shift ;;
	--data-dir) data_dir=$2; shift ;;
	--mem) mem=$2; shift ;;
	--smp) smp=$2; shift ;;
	--show-console) show=1 ;;
	--no-tpm) tpm=0 ;;
	--icount) icount=$2; shift ;;
	*) die "unknown argument $1" ;;
	esac
	shift
done
[ -r "$kernel" ] || die "--kernel: '$kernel' not readable"
[ -r "$initrd" ] || die "--initrd: '$initrd' not readable"
[ -n "$out" ] || die "--out is required"
for t in qemu-system-x86_64 swtpm swtpm_setup tar; do
	command -v $t >/dev/null || die "$t not installed (run 'make deps')"
done

mkdir -p "$out" || die "cannot create $out"
out=$(cd "$out" && pwd)
rm -rf "$out/results" "$out/console.log"
work=$(mktemp -d /tmp/qemu-run.XXXXXX) || die "mktemp failed"
swtpm_pid= qemu_pid= tail_pid=

cleanup() {
	[ -n "$tail_pid" ] && kill "$tail_pid" 2>/dev/null
	[ -n "$qemu_pid" ] && kill -9 "$qemu_pid" 2>/dev/null
	[ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A manufactured TPM 2.0 with both banks the tests replay.
mkdir "$work/tpm"
tpmdev=(-chardev socket,id=chrtpm,path="$work/tpm/sock"
	-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0)
if [ $tpm -eq 0 ]; then
	tpmdev=()
elif ! swtpm_setup --tpm2 --tpmstate "$work/tpm" --pcr-banks sha1,sha256 \
		--createek --overwrite >"$work/swtpm_setup.log" 2>&1; then
	cat "$work/swtpm_setup.log" >&2
	die "swtpm_setup failed"
fi
if [ $tpm -eq 1 ]; then
	swtpm socket --tpm2 --tpmstate dir="$work/tpm" \
		--ctrl type=unixio,path="$work/tpm/sock" --terminate \
		--log file="$work/swtpm.log" &
	swtpm_pid=$!
	for _ in $(seq 50); do
		[ -S "$work/tpm/sock" ] && break
		sleep 0.1
	done
	[ -S "$work/tpm/sock" ] || die "swtpm did not start"
fi

if [ -n "$data_dir" ]; then
	[ -d "$data_dir" ] || die "--data-dir: '$data_dir' is not a directory"
	command -v mkfs.ext4 >/dev/null || die "mkfs.ext4 not installed (run 'make deps')"
	mb=$(($(du -sm "$data_dir" | cut -f1) + 128))
	truncate -s ${mb}M "$work/data.img"
	mkfs.ext4 -q -F -d "$data_dir" "$work/data.img" >/dev/null ||
		die "mkfs.ext4 -d $data_dir failed"
	data_disk=$work/data.img
fi

# Results disk: the guest writes a tar archive of its results here.
truncate -s 64M "$work/results.img"
drives=(-drive "file=$work/results.img,format=raw,if=virtio,cache=unsafe")
if [ -n "$data_disk" ]; then
	drives+=(-drive "file=$data_disk,format=raw,if=virtio,cache=writeback")
fi

accel=(-accel tcg -cpu max)
if [ -n "$icount" ]; then
	accel+=(-icount "shift=$icount,align=off,sleep=off")
elif [ "${QEMU_ACCEL:-tcg}" = kvm ]; then
	accel=(-accel kvm -cpu host)
fi

touch "$out/console.log"
qemu-system-x86_64 -machine q35 "${accel[@]}" -smp "$smp" -m "$mem" \
	-nodefaults -no-reboot -display none -nic none \
	-serial file:"$out/console.log" -monitor none \
	"${tpmdev[@]}" "${drives[@]}" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 oops=panic retain_initrd rootfstype=ramfs imatest.mode=$mode $append" \
	>"$work/qemu.log" 2>&1 &
qemu_pid=$!
if [ $show -eq 1 ]; then
	tail -n +1 -f "$out/console.log" &
	tail_pid=$!
fi

start=$(date +%s)
last_size=0 last_change=$start why=
while kill -0 "$qemu_pid" 2>/dev/null; do
	sleep 1
	now=$(date +%s)
	size=$(stat -c %s "$out/console.log")
	if [ "$size" != "$last_size" ]; then
		last_size=$size last_change=$now
	fi
	if [ $((now - start)) -ge "$timeout" ]; then
		why="hard timeout (${timeout}s)"
	elif [ $((now - last_change)) -ge "$silence" ]; then
		why="console silent for ${silence}s"
	fi
	if [ -n "$why" ]; then
		kill -9 "$qemu_pid" 2>/dev/null
		break
	fi
done
wait "$qemu_pid" 2>/dev/null
qemu_rc=$?
qemu_pid=
elapsed=$(($(date +%s) - start))
[ -n "$tail_pid" ] && { kill "$tail_pid" 2>/dev/null; wait "$tail_pid" 2>/dev/null; tail_pid=; }
echo "$elapsed" > "$out/guest-seconds"

if [ -n "$why" ]; then
	echo "qemu-run: guest killed: $why; last console lines:" >&2
	tail -n 30 "$out/console.log" >&2
	exit 2
fi
if [ $qemu_rc -ne 0 ]; then
	echo "qemu-run: qemu exited with $qemu_rc:" >&2
	cat "$work/qemu.log" >&2
fi

mkdir -p "$out/results"
if ! tar -C "$out/results" -xf "$work/results.img" 2>/dev/null ||
   [ ! -f "$out/results/verdict" ]; then
	echo "qemu-run: the guest wrote no results (crash or panic?); last console lines:" >&2
	tail -n 30 "$out/console.log" >&2
	exit 2
fi

# Kernel splats fail the run even when every test passed.  The guest saves
# its whole dmesg (the console runs at loglevel 1 to keep data readable).
splat='BUG:|WARNING:|Oops|Kernel panic|KASAN|KFENCE|UBSAN|kernel BUG|possible recursive locking|circular locking dependency|inconsistent lock state|suspicious RCU usage|lock held when returning|unreferenced object|INFO: task .* blocked|general protection fault|list_add corruption|list_del corruption|ODEBUG'
if grep -E "$splat" "$out/console.log" "$out/results/"dmesg*.txt \
		"$out/results/"kmemleak*.txt >"$out/splats.txt" 2>/dev/null; then
	echo "qemu-run: kernel splats found (see $out/results/dmesg.txt):" >&2
	head -n 20 "$out/splats.txt" >&2
	exit 1
fi
rm -f "$out/splats.txt"

# Lines a test expects on the console: what a guest prints while it goes
# down for kexec cannot reach a disk.
if [ -f "$out/results/expect-console" ]; then
	while IFS= read -r line; do
		if ! grep -qF -- "$line" "$out/console.log"; then
			echo "qemu-run: expected on the console but missing: $line" >&2
			echo fail > "$out/results/verdict"
			echo "not ok - console shows: $line" >> "$out/results/tap.txt"
		fi
	done < "$out/results/expect-console"
fi

case "$(cat "$out/results/verdict")" in
pass|skip) exit 0 ;;
*) exit 1 ;;
esac
