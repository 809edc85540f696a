// SPDX-License-Identifier: GPL-2.0
/*
 * <securityfs>/ima/snapshot (CONFIG_IMA_LOG_SNAPSHOT): one test per
 * property of the interface.  Every snapshot this test finalizes is first
 * appended to the saved-pieces file (ima_saved_path()), as an agent
 * would, so that saved pieces + live list must still replay to the TPM.
 *
 * On a kernel booted with imatest.config=off (the same kernel without the
 * option) it checks instead that none of the new files exist.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/capability.h>
#include <openssl/evp.h>

#include "../kselftest.h"
#include "imalog.h"
#include "imatest.h"

#define GEN_DIR	"/ima-snapshot-test"

static long serial;

/* Add @n records. */
static void gen_measurements(int n)
{
	if (ima_gen_reads(GEN_DIR, "s", &serial, n) != n)
		ksft_exit_fail_perror("generate measurements");
}

/* Saved pieces + live list replay to PCR 10 in every bank. */
static int replay_matches(void)
{
	char why[256];
	int ok = ima_replay_matches(why, sizeof(why));

	if (!ok)
		ksft_print_msg("%s\n", why);
	return ok;
}

static long count_recs(const char *path)
{
	uint8_t *buf;
	size_t len;
	long n;

	if (ima_read_file(path, &buf, &len))
		return -1;
	n = ima_count_recs(buf, len);
	free(buf);
	return n;
}

static void test_exclusive_open(void)
{
	int a = ima_snapshot_open(O_RDONLY), b = ima_snapshot_open(O_RDONLY), c;

	close(a);
	c = ima_snapshot_open(O_RDONLY);
	if (c >= 0)
		close(c);
	ksft_test_result(a >= 0 && b == -EBUSY && c >= 0,
			 "exclusive_open: second open -EBUSY, reopen after close (%d %d %d)\n",
			 a, b, c);
}

static void test_racing_openers(void)
{
	enum { N = 100 };
	int go[2], res[2], done[2], i, wins = 0, busy = 0, other = 0;
	pid_t pids[N];
	char ch;

	if (pipe(go) || pipe(res) || pipe(done))
		ksft_exit_fail_perror("pipe");
	for (i = 0; i < N; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			int fd, e;

			close(go[1]);
			read(go[0], &ch, 1);	/* all start together */
			fd = open(IMA_SNAPSHOT, O_RDONLY);
			e = fd >= 0 ? 0 : errno;
			ch = e == 0 ? 'W' : e == EBUSY ? 'B' : 'X';
			write(res[1], &ch, 1);
			close(done[1]);
			read(done[0], &ch, 1);	/* hold the fd until all tried */
			_exit(0);
		}
	}
	close(go[0]);
	close(go[1]);		/* EOF wakes every child at once */
	for (i = 0; i < N; i++) {
		if (read(res[0], &ch, 1) != 1)
			break;
		wins += ch == 'W';
		busy += ch == 'B';
		other += ch == 'X';
	}
	close(done[1]);
	for (i = 0; i < N; i++)
		waitpid(pids[i], NULL, 0);
	close(res[0]);
	close(res[1]);
	close(done[0]);
	ksft_test_result(wins == 1 && busy == N - 1 && !other,
			 "racing_openers: %d openers, %d won, %d -EBUSY, %d other\n",
			 N, wins, busy, other);
}

static int drop_cap_sys_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	data[CAP_SYS_ADMIN / 32].permitted &= ~(1u << (CAP_SYS_ADMIN % 32));
	return syscall(SYS_capset, &hdr, data);
}

static void test_unprivileged_open(void)
{
	struct ima_counters before, after;
	int status, nocap = -1, nobody = -1;
	pid_t pid;

	ima_counters_read(&before);
	/* root without CAP_SYS_ADMIN: the file's mode lets it, we do not */
	pid = fork();
	if (pid == 0)
		_exit(drop_cap_sys_admin() ? 100 : -ima_snapshot_open(O_RDONLY));
	waitpid(pid, &status, 0);
	nocap = WEXITSTATUS(status);
	/* nobody: mode 0600 already refuses */
	pid = fork();
	if (pid == 0)
		_exit(setuid(65534) ? 100 : -ima_snapshot_open(O_RDONLY));
	waitpid(pid, &status, 0);
	nobody = WEXITSTATUS(status);
	ima_counters_read(&after);
	ksft_test_result(nocap == EPERM && nobody == EACCES &&
			 after.attempts == before.attempts,
			 "unprivileged_open: no CAP_SYS_ADMIN -EPERM (%d), nobody -EACCES (%d), no marker\n",
			 nocap, nobody);
}

static void test_rdonly_write(void)
{
	struct ima_counters before, after;
	uint8_t *buf = NULL;
	size_t len;
	int fd, rc, w;

	fd = ima_snapshot_open(O_RDONLY);
	rc = fd >= 0 ? ima_read_fd(fd, &buf, &len) : fd;
	ima_counters_read(&before);
	w = write(fd, "1", 1) < 0 ? errno : 0;
	ima_counters_read(&after);
	close(fd);
	free(buf);
	ksft_test_result(!rc && w == EBADF && after.trimmed == before.trimmed,
			 "rdonly_open_then_write: marker added, write -EBADF, nothing trimmed\n");
}

static void test_write_before_eof(void)
{
	struct ima_counters before, after;
	uint8_t b[16];
	int fd, w;

	fd = ima_snapshot_open(O_RDWR);
	ima_counters_read(&before);
	w = (fd >= 0 && read(fd, b, sizeof(b)) == sizeof(b) &&
	     write(fd, "1", 1) < 0) ? errno : 0;
	ima_counters_read(&after);
	close(fd);
	ksft_test_result(fd >= 0 && w == ENODATA &&
			 after.trimmed == before.trimmed &&
			 after.in_memory == before.in_memory,
			 "write_before_eof: -ENODATA, nothing trimmed (%d)\n", w);
}

/*
 * Only bytes that reached userspace count as read: seeking to the end, or
 * a pread() of the last byte, walks the whole snapshot inside the kernel
 * but hands nothing over, so it must not allow a finalize.  Reading the
 * rest afterwards from where read() stopped does.
 */
static void test_seek_is_not_read(void)
{
	struct ima_counters before, after;
	int fd, w_seek = 0, w_pread = 0;
	uint8_t b[4096];
	ssize_t n;

	fd = ima_snapshot_open(O_RDWR);
	ima_counters_read(&before);
	if (fd >= 0) {
		/* seq_file has no SEEK_END: far past the end instead. */
		lseek(fd, 1 << 30, SEEK_SET);
		while (read(fd, b, sizeof(b)) > 0)
			;
		w_seek = write(fd, "1", 1) < 0 ? errno : 0;
		lseek(fd, 0, SEEK_SET);
		n = read(fd, b, 16);
		if (n == 16 && pread(fd, b, 1, 1 << 20) == 0)
			w_pread = write(fd, "1", 1) < 0 ? errno : 0;
	}
	ima_counters_read(&after);
	close(fd);
	ksft_test_result(fd >= 0 && w_seek == ENODATA && w_pread == ENODATA &&
			 after.trimmed == before.trimmed &&
			 after.in_memory == before.in_memory,
			 "seek_or_pread_is_not_read: write -ENODATA after lseek (%d) and pread (%d), nothing trimmed\n",
			 w_seek, w_pread);
}

static void test_zero_length_write(void)
{
	struct ima_counters before, after;
	uint8_t *buf = NULL;
	size_t len;
	int fd, w = -1;

	fd = ima_snapshot_open(O_RDWR);
	if (fd >= 0 && !ima_read_fd(fd, &buf, &len)) {
		ima_counters_read(&before);
		w = write(fd, "", 0) < 0 ? errno : 0;
		ima_counters_read(&after);
	}
	close(fd);
	free(buf);
	ksft_test_result(w == EINVAL && after.trimmed == before.trimmed,
			 "zero_length_write: -EINVAL, nothing trimmed (%d)\n", w);
}

static void test_close_without_write(void)
{
	struct ima_counters before, after;
	uint8_t *buf = NULL;
	size_t len;
	int fd, rc;

	ima_counters_read(&before);
	fd = ima_snapshot_open(O_RDWR);
	rc = fd >= 0 ? ima_read_fd(fd, &buf, &len) : fd;
	close(fd);
	ima_counters_read(&after);
	free(buf);
	ksft_test_result(!rc && after.trimmed == before.trimmed &&
			 after.snapshots == before.snapshots &&
			 after.attempts == before.attempts + 1 &&
			 after.in_memory >= before.in_memory + 1 &&
			 count_recs(IMA_BINARY_LIST) == after.in_memory,
			 "close_without_write: only the marker was added\n");
}

/*
 * The snapshot is the head of binary_runtime_measurements up to the
 * marker, byte for byte, a second pass and pread give the same bytes, and
 * the marker's fields describe the list before it.
 */
static void test_content_and_marker(void)
{
	uint8_t *snap = NULL, *again = NULL, *list = NULL, *full = NULL;
	size_t slen = 0, alen = 0, llen = 0, flen = 0, off, saved_len;
	uint8_t mid[64];
	struct ima_marker mk;
	struct ima_banks bs;
	struct ima_rec r, last_marker_rec;
	long before_recs = 0, seg = 0;
	int fd, i, same, pread_ok, fields_ok = 0, pcrs_ok = 1, seg_ok = 0;
	int have_last = 0;
	EVP_MD_CTX *ctx;
	const EVP_MD *md;
	uint8_t d[IMA_MAX_DIGEST], sd[IMA_MAX_DIGEST];
	unsigned int dl;

	/* A segment that is not empty since the previous marker. */
	gen_measurements(5);
	fd = ima_snapshot_open(O_RDWR);
	if (fd < 0 || ima_read_fd(fd, &snap, &slen) ||
	    ima_read_file(IMA_BINARY_LIST, &list, &llen))
		ksft_exit_fail_msg("cannot open and read the snapshot (%d)\n", fd);
	lseek(fd, 0, SEEK_SET);
	ima_read_fd(fd, &again, &alen);
	pread_ok = slen > 100 && pread(fd, mid, sizeof(mid), 37) == sizeof(mid) &&
		   !memcmp(mid, snap + 37, sizeof(mid));
	close(fd);

	same = slen < llen && !memcmp(snap, list, slen);
	ksft_test_result(same,
			 "content_equals_list_head: %zu bytes equal the head of the binary list\n",
			 slen);
	ksft_test_result(alen == slen && !memcmp(snap, again, slen) && pread_ok,
			 "content_rereadable: second pass after lseek and pread give the same bytes\n");

	/* The marker is the record right after the snapshot in the list. */
	off = slen;
	if (same && ima_next_rec(list, llen, &off, &r) == 1 &&
	    ima_rec_is_marker(&r) && !ima_rec_marker(&r, &mk))
		fields_ok = 1;
	ksft_test_result(fields_ok && r.pcr == 10,
			 "marker_fields_parse: snapshot_aggregate on PCR 10 after the snapshot\n");
	if (!fields_ok) {
		ksft_test_result_skip("marker_pcrs_equal_replay: no marker\n");
		ksft_test_result_skip("marker_counts_and_segment_digest: no marker\n");
		goto out;
	}

	/* Replay saved pieces + snapshot: must equal the marker's PCRs. */
	ima_read_file(ima_saved_path(), &full, &flen);
	saved_len = flen;
	full = realloc(full, flen + slen);
	memcpy(full + saved_len, snap, slen);
	flen += slen;
	before_recs = ima_count_recs(full, flen);
	if (ima_tpm_present()) {
		ima_banks_from_tpm(&bs);
		ima_banks_replay(&bs, full, flen);
		for (i = 0; i < mk.npcrs; i++) {
			int b;

			for (b = 0; b < bs.n; b++)
				if (!strcmp(bs.b[b].name, mk.pcrs[i].alg))
					break;
			if (b == bs.n || mk.pcrs[i].len != bs.b[b].len ||
			    memcmp(mk.pcrs[i].value, bs.b[b].pcr[mk.pcrs[i].pcr],
				   bs.b[b].len)) {
				ksft_print_msg("marker %s:PCR%d differs from the replay\n",
					       mk.pcrs[i].alg, mk.pcrs[i].pcr);
				pcrs_ok = 0;
			}
		}
		if (mk.npcrs != bs.n)
			pcrs_ok = 0;
	}
	ksft_test_result(pcrs_ok,
			 "marker_pcrs_equal_replay: %d PCR values equal the replay of %ld records\n",
			 mk.npcrs, before_recs);

	/* Segment: records after the previous marker, digests in seg_alg. */
	md = EVP_get_digestbyname(mk.seg_alg);
	off = 0;
	while (ima_next_rec(full, flen, &off, &r) == 1)
		if (ima_rec_is_marker(&r)) {
			last_marker_rec = r;
			have_last = 1;
		}
	ctx = EVP_MD_CTX_new();
	if (md) {
		static const uint8_t zero[IMA_SHA1_SIZE];

		EVP_DigestInit_ex(ctx, md, NULL);
		off = have_last ? last_marker_rec.offset + last_marker_rec.size : 0;
		while (ima_next_rec(full, flen, &off, &r) == 1) {
			if (!memcmp(r.digest, zero, IMA_SHA1_SIZE))
				memset(d, 0, EVP_MD_size(md));
			else
				EVP_Digest(r.data, r.data_len, d, &dl, md, NULL);
			EVP_DigestUpdate(ctx, d, EVP_MD_size(md));
			seg++;
		}
		EVP_DigestFinal_ex(ctx, sd, &dl);
		seg_ok = dl == mk.seg_len && !memcmp(sd, mk.seg_digest, dl);
	}
	EVP_MD_CTX_free(ctx);
	ksft_test_result(seg_ok && mk.seg_records == seg && seg >= 5 &&
			 mk.records == before_recs,
			 "marker_counts_and_segment_digest: Measurement_Count %lld (want %ld), Segment_Count %lld (want %ld), digest %s\n",
			 mk.records, before_recs, mk.seg_records, seg,
			 seg_ok ? "ok" : "differs");
out:
	free(snap);
	free(again);
	free(list);
	free(full);
}

static void test_finalize(void)
{
	struct ima_counters before, after;
	uint8_t *piece = NULL, *list = NULL;
	size_t plen, llen, off = 0;
	struct ima_rec r;
	long trimmed_recs;
	int rc, first_is_marker = 0, fd, again = 0;

	ima_counters_read(&before);
	rc = ima_take_snapshot(&piece, &plen);
	ima_counters_read(&after);
	trimmed_recs = ima_count_recs(piece, plen);
	if (!ima_read_file(IMA_BINARY_LIST, &list, &llen) &&
	    ima_next_rec(list, llen, &off, &r) == 1)
		first_is_marker = ima_rec_is_marker(&r);

	ksft_test_result(!rc && first_is_marker,
			 "finalize_list_starts_with_marker (%d)\n", rc);
	ksft_test_result(after.trimmed == before.trimmed + trimmed_recs &&
			 after.snapshots == before.snapshots + 1 &&
			 after.count == after.in_memory + after.trimmed &&
			 ima_count_recs(list, llen) == after.in_memory &&
			 (long long)llen == after.bytes,
			 "finalize_counters_add_up: count %lld = in memory %lld + trimmed %lld; list %ld records, %zu bytes (counter %lld)\n",
			 after.count, after.in_memory, after.trimmed,
			 ima_count_recs(list, llen), llen, after.bytes);
	ksft_test_result(replay_matches(),
			 "finalize_saved_plus_live_replays_to_pcr10\n");

	/* A second write on the same fd, after finalizing. */
	fd = ima_snapshot_open(O_RDWR);
	free(piece);
	if (fd >= 0 && !ima_read_fd(fd, &piece, &plen) && !ima_save_piece(piece, plen) &&
	    write(fd, "1", 1) == 1)
		again = write(fd, "1", 1) < 0 ? errno : 0;
	close(fd);
	ksft_test_result(again == EALREADY && replay_matches(),
			 "double_write: second write -EALREADY (%d)\n", again);
	free(piece);
	free(list);
}

/* Read ascii_runtime_measurements in small steps from an open fd. */
static ssize_t read_some(int fd, char *buf, size_t len)
{
	ssize_t n = read(fd, buf, len);

	return n < 0 ? -errno : n;
}

static char *read_rest(int fd, size_t *len, int *err)
{
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap);
	ssize_t r;

	*err = 0;
	for (;;) {
		if (n == cap)
			b = realloc(b, cap *= 2);
		r = read_some(fd, b + n, cap - n < 100 ? cap - n : 100);
		if (r < 0) {
			*err = -r;
			break;
		}
		if (r == 0)
			break;
		n += r;
	}
	*len = n;
	return b;
}

static void test_reader_across_trim(void)
{
	uint8_t *piece = NULL;
	size_t plen, tlen, flen;
	char *tail, *fresh, head[64];
	int tailer, slow, err, err2, rc;
	ssize_t n;

	/*
	 * At least two records before the next marker; a tailing reader has
	 * read them all, a slow one part of the first.
	 */
	gen_measurements(2);
	tailer = open(IMA_ASCII_LIST, O_RDONLY);
	slow = open(IMA_ASCII_LIST, O_RDONLY);
	free(read_rest(tailer, &tlen, &err));
	n = read_some(slow, head, sizeof(head));

	rc = ima_take_snapshot(&piece, &plen);
	free(piece);

	/* The tailer goes on with the marker, the new head. */
	tail = read_rest(tailer, &tlen, &err);
	fresh = (char *)read_rest(open(IMA_ASCII_LIST, O_RDONLY), &flen, &err2);
	ksft_test_result(!rc && !err && tlen > 0 && tlen == flen &&
			 !memcmp(tail, fresh, tlen) &&
			 strstr(fresh, "snapshot_aggregate") &&
			 strstr(fresh, "snapshot_aggregate") < strchr(fresh, '\n'),
			 "reader_past_trim_continues: %zu bytes after the trim equal the new list\n",
			 tlen);
	free(tail);

	/* The slow reader's next record was trimmed: an error, not a gap. */
	tail = read_rest(slow, &tlen, &err);
	ksft_test_result(n > 0 && err == ESTALE,
			 "reader_behind_trim_gets_estale: after %zu more bytes, errno %d\n",
			 tlen, err);
	free(tail);
	free(fresh);
	close(tailer);
	close(slow);
	ksft_test_result(replay_matches(), "reader_test_replays_to_pcr10\n");
}

int main(void)
{
	ksft_print_header();
	if (access(IMA_BINARY_LIST, R_OK))
		ksft_exit_skip("no %s\n", IMA_BINARY_LIST);
	if (imatest_off_kernel()) {
		ksft_set_plan(1);
		ksft_test_result(access(IMA_SNAPSHOT, F_OK) && access(IMA_TRIMMED, F_OK) &&
				 access(IMA_IN_MEMORY, F_OK),
				 "option_off_has_no_snapshot_files\n");
		ksft_finished();
	}
	if (access(IMA_SNAPSHOT, F_OK))
		ksft_exit_fail_msg("no %s: CONFIG_IMA_LOG_SNAPSHOT is off?\n",
				   IMA_SNAPSHOT);
	if (!ima_tpm_present() && ima_tpm_required())
		ksft_exit_fail_msg("no TPM, but the harness attached one\n");
	if (mkdir(GEN_DIR, 0700) && errno != EEXIST)
		ksft_exit_fail_perror("mkdir " GEN_DIR);

	ksft_set_plan(20);
	test_exclusive_open();
	test_racing_openers();
	test_unprivileged_open();
	test_rdonly_write();
	test_write_before_eof();
	test_seek_is_not_read();
	test_zero_length_write();
	test_close_without_write();
	test_content_and_marker();
	test_finalize();
	test_reader_across_trim();
	ksft_finished();
}
