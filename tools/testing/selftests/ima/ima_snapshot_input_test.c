// SPDX-License-Identifier: GPL-2.0
/*
 * <securityfs>/ima/snapshot (CONFIG_IMA_LOG_SNAPSHOT) against bad and
 * unusual input: odd read sizes, seeks and preads out of range, mmap,
 * huge writes, pwrite, reads after a finalize, a writer or reader killed
 * with SIGKILL, and the file descriptor shared with another process by
 * fork() or SCM_RIGHTS.
 *
 * Each case checks that the kernel answers with the documented errno and
 * that nothing is trimmed unless a write was meant to finalize; every
 * snapshot that is finalized is saved first (ima_saved_path()), and at the
 * end saved pieces + live list must still replay to PCR 10.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest.h"
#include "imalog.h"
#include "imatest.h"

#define GEN_DIR	"/ima-input-test"

static long serial;

/* Enough records before the marker that reads and kills take a while. */
static void grow(long n)
{
	if (ima_gen_reads(GEN_DIR, "r", &serial, n) != n)
		ksft_exit_fail_perror("generate measurements");
}

static int unchanged(const struct ima_counters *a, const struct ima_counters *b)
{
	return a->trimmed == b->trimmed && a->snapshots == b->snapshots &&
	       b->in_memory >= a->in_memory;
}

static ssize_t read_in_steps(int fd, uint8_t *out, size_t cap,
			     const size_t *steps, int nsteps)
{
	size_t n = 0;
	ssize_t r;
	int i = 0;

	for (;;) {
		size_t want = steps[i++ % nsteps];

		if (want > cap - n)
			want = cap - n;
		r = read(fd, out + n, want);
		if (r < 0)
			return -errno;
		if (r == 0 && want)
			return n;
		n += r;
	}
}

/* The bytes of the snapshot on @fd, read from its start in one pass. */
static int slurp(int fd, uint8_t **buf, size_t *len)
{
	if (lseek(fd, 0, SEEK_SET))
		return -errno;
	return ima_read_fd(fd, buf, len);
}

/* Finalize @fd, whose snapshot @piece was read to its end. */
static int finalize(int fd, const uint8_t *piece, size_t plen,
		    const void *wbuf, size_t wlen)
{
	struct ima_counters before;
	int e, done;
	ssize_t w;

	ima_counters_read(&before);
	w = write(fd, wbuf, wlen);
	e = errno;
	done = w == (ssize_t)wlen;
	if (ima_reconcile_piece(&before, piece, plen) != done)
		return -EPROTO;
	return w < 0 ? -e : done;
}

/*
 * A read of 0 bytes returns 0 and is not the end of the file; reads of 1
 * byte and of odd sizes return the same bytes as one big read.
 */
static void test_read_sizes(void)
{
	static const size_t ones[] = { 1 };
	static const size_t odd[] = { 3, 7, 4093, 65537, 1, 11 };
	uint8_t *ref = NULL, *a = NULL, *b = NULL, z;
	struct ima_counters before, after;
	ssize_t na, nb, zero;
	int fd, w0, ok;
	size_t rlen;

	ima_counters_read(&before);
	fd = ima_snapshot_open(O_RDWR);
	if (fd < 0)
		ksft_exit_fail_msg("open snapshot: %s\n", strerror(-fd));
	zero = read(fd, &z, 0);
	w0 = write(fd, "1", 1) < 0 ? errno : 0;
	if (slurp(fd, &ref, &rlen))
		ksft_exit_fail_perror("read snapshot");
	a = malloc(rlen + 1);
	b = malloc(rlen + 1);
	lseek(fd, 0, SEEK_SET);
	na = read_in_steps(fd, a, rlen + 1, ones, 1);
	lseek(fd, 0, SEEK_SET);
	nb = read_in_steps(fd, b, rlen + 1, odd, ARRAY_SIZE(odd));
	ima_counters_read(&after);
	ok = finalize(fd, ref, rlen, "1", 1) == 1;
	close(fd);

	ksft_test_result(zero == 0 && w0 == ENODATA && unchanged(&before, &after),
			 "read_size_0_is_not_eof: read(0) = %zd, then write -ENODATA (%d)\n",
			 zero, w0);
	ksft_test_result(na == (ssize_t)rlen && !memcmp(a, ref, rlen),
			 "read_size_1: %zd one-byte reads equal %zu bytes read at once\n",
			 na, rlen);
	ksft_test_result(nb == (ssize_t)rlen && !memcmp(b, ref, rlen) && ok,
			 "read_odd_sizes: reads of 3, 7, 4093, 65537, 1, 11 bytes equal the snapshot, then it finalizes\n");
	free(ref);
	free(a);
	free(b);
}

/*
 * lseek() and pread(): negative offsets and SEEK_END (seq_file has no
 * size) are -EINVAL; past the end reads return 0; none of it counts as
 * reading the snapshot, and the file still reads normally afterwards:
 * the head of binary_runtime_measurements up to the marker.
 */
static void test_seek_and_pread(void)
{
	int fd, e_neg, e_end, e_cur, e_pread, e_hole, w, ok = 0;
	struct ima_counters before, after;
	uint8_t *snap = NULL, *list = NULL, b[64];
	ssize_t past_read, past_pread;
	size_t slen = 0, llen = 0, off;
	struct ima_rec r;
	off_t past;

	ima_counters_read(&before);
	fd = ima_snapshot_open(O_RDWR);
	if (fd < 0 || read(fd, b, 8) != 8)
		ksft_exit_fail_msg("open and read snapshot\n");
	e_neg = lseek(fd, -1, SEEK_SET) < 0 ? errno : 0;
	e_end = lseek(fd, 0, SEEK_END) < 0 ? errno : 0;
	e_cur = lseek(fd, -100, SEEK_CUR) < 0 ? errno : 0;
	e_hole = lseek(fd, 0, SEEK_HOLE) < 0 ? errno : 0;
	e_pread = pread(fd, b, sizeof(b), -1) < 0 ? errno : 0;
	past = lseek(fd, (off_t)1 << 30, SEEK_SET);
	past_read = read(fd, b, sizeof(b));
	past_pread = pread(fd, b, sizeof(b), (off_t)1 << 40);
	w = write(fd, "1", 1) < 0 ? errno : 0;
	ima_counters_read(&after);

	/* From the start again: the snapshot, then the marker in the list. */
	lseek(fd, 0, SEEK_SET);
	if (!ima_read_fd(fd, &snap, &slen) &&
	    !ima_read_file(IMA_BINARY_LIST, &list, &llen) && slen < llen &&
	    !memcmp(snap, list, slen)) {
		off = slen;
		ok = ima_next_rec(list, llen, &off, &r) == 1 &&
		     ima_rec_is_marker(&r);
	}
	close(fd);

	ksft_test_result(e_neg == EINVAL && e_end == EINVAL && e_cur == EINVAL &&
			 e_hole == EINVAL && e_pread == EINVAL,
			 "seek_negative_or_end_einval: SEEK_SET -1 %d, SEEK_END %d, SEEK_CUR -100 %d, SEEK_HOLE %d, pread -1 %d\n",
			 e_neg, e_end, e_cur, e_hole, e_pread);
	ksft_test_result(past == (off_t)1 << 30 && past_read == 0 &&
			 past_pread == 0 && w == ENODATA &&
			 unchanged(&before, &after),
			 "seek_past_end_reads_nothing: lseek 1 GiB %lld, read %zd, pread at 1 TiB %zd, write -ENODATA (%d)\n",
			 (long long)past, past_read, past_pread, w);
	ksft_test_result(ok,
			 "reads_after_bad_seeks: the snapshot still reads as the %zu bytes before its marker\n",
			 slen);
	free(snap);
	free(list);
}

static void test_mmap(void)
{
	struct ima_counters before, after;
	void *p;
	int fd, e;

	ima_counters_read(&before);
	fd = ima_snapshot_open(O_RDWR);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	e = p == MAP_FAILED ? errno : 0;
	if (p != MAP_FAILED)
		munmap(p, 4096);
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p != MAP_FAILED) {
		munmap(p, 4096);
		e = 0;
	}
	close(fd);
	ima_counters_read(&after);
	ksft_test_result(fd >= 0 && e == ENODEV && unchanged(&before, &after),
			 "mmap_enodev: mmap -ENODEV (%d), nothing trimmed\n", e);
}

/* Any non-empty write finalizes, 1 MiB as well as 1 byte; its bytes are not read. */
static void test_huge_write(void)
{
	struct ima_counters before, mid;
	size_t big = 1 << 20, plen;
	uint8_t *wbuf, *piece = NULL;
	int fd, early, ok;

	wbuf = calloc(1, big);
	ima_counters_read(&before);
	fd = ima_snapshot_open(O_RDWR);
	early = write(fd, wbuf, big) < 0 ? errno : 0;
	ima_counters_read(&mid);
	if (fd < 0 || ima_read_fd(fd, &piece, &plen))
		ksft_exit_fail_msg("open and read snapshot\n");
	ok = finalize(fd, piece, plen, wbuf, big);
	close(fd);
	ksft_test_result(early == ENODATA && unchanged(&before, &mid) && ok == 1,
			 "write_1mib: before reading -ENODATA (%d), after reading it finalizes (%d)\n",
			 early, ok);
	free(wbuf);
	free(piece);
}

/*
 * pwrite() is -ESPIPE (seq_open() clears FMODE_PWRITE) and trims nothing.
 * Once finalized, the records before the marker are gone: reading them
 * again on the same file descriptor, by pread() or by lseek(), is -ESTALE
 * (and lseek() resets the position to 0), never stale or freed bytes.
 */
static void test_pwrite_and_reread(void)
{
	int fd, e_pwrite, ok, e_pread, e_seek;
	struct ima_counters before, mid;
	uint8_t *piece = NULL, b[64];
	off_t pos_after = -1;
	size_t plen;

	ima_counters_read(&before);
	fd = ima_snapshot_open(O_RDWR);
	if (fd < 0 || ima_read_fd(fd, &piece, &plen))
		ksft_exit_fail_msg("open and read snapshot\n");
	e_pwrite = pwrite(fd, "1", 1, 0) < 0 ? errno : 0;
	ima_counters_read(&mid);
	ok = finalize(fd, piece, plen, "1", 1);
	e_pread = pread(fd, b, sizeof(b), 0) < 0 ? errno : 0;
	e_seek = lseek(fd, 1, SEEK_SET) < 0 ? errno : 0;
	if (e_seek)
		pos_after = lseek(fd, 0, SEEK_CUR);
	close(fd);
	ksft_test_result(e_pwrite == ESPIPE && unchanged(&before, &mid) &&
			 ok == 1 && e_pread == ESTALE && e_seek == ESTALE &&
			 pos_after == 0,
			 "reread_after_finalize_estale: pwrite -ESPIPE (%d), finalize %d, then pread -ESTALE (%d), lseek -ESTALE (%d) to position %lld\n",
			 e_pwrite, ok, e_pread, e_seek, (long long)pos_after);
	free(piece);
}

/* A file opened write-only can never be read, so it can never finalize. */
static void test_wronly(void)
{
	struct ima_counters before, after;
	int fd, r, w;
	uint8_t b[8];

	ima_counters_read(&before);
	fd = ima_snapshot_open(O_WRONLY);
	r = read(fd, b, sizeof(b)) < 0 ? errno : 0;
	w = write(fd, "1", 1) < 0 ? errno : 0;
	close(fd);
	ima_counters_read(&after);
	ksft_test_result(fd >= 0 && r == EBADF && w == ENODATA &&
			 unchanged(&before, &after),
			 "wronly_open_cannot_finalize: read -EBADF (%d), write -ENODATA (%d)\n",
			 r, w);
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/*
 * Kill a reader mid-read: it reads the snapshot one byte at a time and is
 * killed after a few milliseconds.  The file is released (the next open
 * works), nothing was trimmed.
 */
static void test_kill_mid_read(void)
{
	struct ima_counters before, after;
	int i, fd, busy_after = 0, killed = 0;
	pid_t pid;

	grow(300);
	ima_counters_read(&before);
	for (i = 0; i < 20; i++) {
		pid = fork();
		if (pid == 0) {
			uint8_t b;
			int f = ima_snapshot_open(O_RDWR);

			if (f < 0)
				_exit(1);
			while (read(f, &b, 1) == 1)
				;
			_exit(2);	/* read it all before the kill */
		}
		sleep_us(1000 + i * 1500);
		kill(pid, SIGKILL);
		int st;

		waitpid(pid, &st, 0);
		killed += WIFSIGNALED(st);
		fd = ima_snapshot_open(O_RDONLY);
		busy_after += fd < 0;
		if (fd >= 0)
			close(fd);
	}
	ima_counters_read(&after);
	ksft_test_result(killed > 0 && !busy_after && unchanged(&before, &after) &&
			 after.attempts == before.attempts + 40,
			 "sigkill_mid_read: %d of 20 readers killed mid-read, file released every time, nothing trimmed\n",
			 killed);
}

/*
 * Kill a writer around its finalizing write.  Whatever the timing, the
 * kernel either trimmed exactly the snapshot (then the piece the writer
 * saved is kept) or nothing, and the file is released.
 */
static void test_kill_mid_write(void)
{
	int i, trimmed = 0, untouched = 0, bad = 0, busy_after = 0;
	struct ima_counters before;
	char tmp[] = "/tmp/ima-input-piece";
	uint8_t *piece;
	size_t plen;
	int go[2], fd;
	pid_t pid;
	char ch;

	for (i = 0; i < 12; i++) {
		grow(50);
		if (pipe(go))
			ksft_exit_fail_perror("pipe");
		ima_counters_read(&before);
		unlink(tmp);
		pid = fork();
		if (pid == 0) {
			int f = ima_snapshot_open(O_RDWR), t;
			uint8_t *p;
			size_t n;

			close(go[0]);
			if (f < 0 || ima_read_fd(f, &p, &n))
				_exit(1);
			t = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
			if (t < 0 || ima_write_all(t, p, n) || fsync(t))
				_exit(1);
			close(t);
			write(go[1], "w", 1);
			sleep_us((i % 4) * 300);
			write(f, "1", 1);
			_exit(0);
		}
		close(go[1]);
		if (read(go[0], &ch, 1) == 1)
			sleep_us((i / 4) * 400);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(go[0]);
		piece = NULL;
		if (ima_read_file(tmp, &piece, &plen)) {
			piece = NULL;
			plen = 0;
		}
		switch (ima_reconcile_piece(&before, piece, plen)) {
		case 1:
			trimmed++;
			break;
		case 0:
			untouched++;
			break;
		default:
			bad++;
		}
		free(piece);
		fd = ima_snapshot_open(O_RDONLY);
		busy_after += fd < 0;
		if (fd >= 0)
			close(fd);
	}
	unlink(tmp);
	ksft_test_result(!bad && !busy_after,
			 "sigkill_mid_write: 12 writers killed: %d trimmed all their snapshot, %d nothing, %d something else; file released every time\n",
			 trimmed, untouched, bad);
}

/*
 * fork(): the child reads the snapshot to its end on the parent's file
 * description and saves it; the parent's write finalizes it, as the state
 * belongs to the open file.  The file stays busy until the last process
 * holding the description closes it.
 */
static void test_fork_shared_fd(void)
{
	char tmp[] = "/tmp/ima-input-fork";
	int fd, busy_child, free_after, ok = 0, st;
	uint8_t *piece = NULL;
	int hold[2];
	size_t plen;
	pid_t pid;
	char ch;

	grow(20);
	fd = ima_snapshot_open(O_RDWR);
	if (fd < 0 || pipe(hold))
		ksft_exit_fail_msg("open snapshot\n");
	unlink(tmp);
	pid = fork();
	if (pid == 0) {
		uint8_t *p;
		size_t n;
		int t;

		close(hold[1]);
		if (ima_read_fd(fd, &p, &n))
			_exit(1);
		t = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (t < 0 || ima_write_all(t, p, n) || fsync(t))
			_exit(1);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	if (WIFEXITED(st) && !WEXITSTATUS(st) && !ima_read_file(tmp, &piece, &plen))
		ok = finalize(fd, piece, plen, "1", 1);
	free(piece);

	/* A child keeps the description open after the parent closed it. */
	pid = fork();
	if (pid == 0) {
		close(hold[1]);
		read(hold[0], &ch, 1);
		_exit(0);
	}
	close(fd);
	fd = ima_snapshot_open(O_RDONLY);
	busy_child = fd == -EBUSY;
	if (fd >= 0)
		close(fd);
	close(hold[1]);
	waitpid(pid, NULL, 0);
	close(hold[0]);
	fd = ima_snapshot_open(O_RDONLY);
	free_after = fd >= 0;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	ksft_test_result(ok == 1 && busy_child && free_after,
			 "fork_shared_fd: child reads, parent finalizes (%d); busy while the child holds it (%d), free after (%d)\n",
			 ok, busy_child, free_after);
}

static int send_fd(int sock, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { .iov_base = "F", .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &mh, 0) == 1 ? 0 : -1;
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int))], b;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &mh, 0) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/*
 * SCM_RIGHTS: the opener passes the descriptor to another process and
 * closes its own; the receiver reads, saves and finalizes.  The file is
 * free again once the receiver closes it.
 */
static void test_scm_rights(void)
{
	struct ima_counters before, after;
	int sv[2], fd, st, free_after, rc = -1;
	pid_t pid;

	grow(20);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		ksft_exit_fail_perror("socketpair");
	ima_counters_read(&before);
	pid = fork();
	if (pid == 0) {
		uint8_t *p;
		size_t n;
		int f;

		close(sv[0]);
		f = recv_fd(sv[1]);
		if (f < 0 || ima_read_fd(f, &p, &n))
			_exit(1);
		/* saved before the write, as ima_take_snapshot() does */
		if (ima_save_piece(p, n))
			_exit(2);
		_exit(write(f, "1", 1) == 1 ? 0 : 3);
	}
	close(sv[1]);
	fd = ima_snapshot_open(O_RDWR);
	if (fd >= 0 && !send_fd(sv[0], fd))
		rc = 0;
	close(fd);
	close(sv[0]);
	waitpid(pid, &st, 0);
	ima_counters_read(&after);
	fd = ima_snapshot_open(O_RDONLY);
	free_after = fd >= 0;
	if (fd >= 0)
		close(fd);
	ksft_test_result(!rc && WIFEXITED(st) && !WEXITSTATUS(st) &&
			 after.snapshots == before.snapshots + 1 &&
			 after.trimmed > before.trimmed && free_after,
			 "scm_rights_fd: the receiver finalized (exit %d), %lld records trimmed, free after close (%d)\n",
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1,
			 after.trimmed - before.trimmed, free_after);
}

int main(void)
{
	struct ima_counters c;
	char why[256];

	ksft_print_header();
	imatest_require_snapshots();
	if (mkdir(GEN_DIR, 0700) && errno != EEXIST)
		ksft_exit_fail_perror("mkdir " GEN_DIR);

	ksft_set_plan(16);
	grow(20);
	test_read_sizes();
	test_seek_and_pread();
	test_mmap();
	test_huge_write();
	test_wronly();
	test_pwrite_and_reread();
	test_kill_mid_read();
	test_kill_mid_write();
	test_fork_shared_fd();
	test_scm_rights();

	ima_counters_read(&c);
	ksft_test_result(ima_counters_add_up(&c),
			 "counters_add_up: count %lld = in memory %lld + trimmed %lld\n",
			 c.count, c.in_memory, c.trimmed);
	ksft_test_result(ima_replay_matches(why, sizeof(why)),
			 "saved_plus_live_replays_to_pcr10: %s\n", why);
	rmdir(GEN_DIR);
	ksft_finished();
}
