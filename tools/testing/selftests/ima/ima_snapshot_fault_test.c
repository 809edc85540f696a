// SPDX-License-Identifier: GPL-2.0
/*
 * <securityfs>/ima/snapshot (CONFIG_IMA_LOG_SNAPSHOT) under failures:
 *
 *  - the TPM fails while the marker is built (<debugfs>/
 *    fail_ima_snapshot_tpm, CONFIG_FAULT_INJECTION_DEBUG_FS): open fails
 *    with -EIO, the list, the counters and PCR 10 are unchanged, and
 *    the next open works once the TPM is back;
 *  - every allocation of an open and of a finalize fails in turn
 *    (failslab and fail_page_alloc through /proc/thread-self/fail-nth):
 *    each call either fails with ENOMEM and changes nothing, or succeeds
 *    completely; kmemleak, scanned by the harness at the end, finds
 *    nothing;
 *  - 1000 snapshot cycles (open, read, save, finalize) leave the kernel's
 *    unreclaimable slab memory where it started.
 *
 * The fault injection parts SKIP on kernels without it (only the debug
 * kernel has it).  Every finalized snapshot is saved first, so that saved
 * pieces + live list still replay to PCR 10 at the end.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest.h"
#include "imalog.h"
#include "imatest.h"

#define DEBUGFS		"/sys/kernel/debug"
#define FAIL_TPM	DEBUGFS "/fail_ima_snapshot_tpm"
#define GEN_DIR		"/ima-fault-test"

static long serial;

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_TRUNC), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

static int attr_set(const char *dir, const char *attr, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	return write_str(path, val);
}

/* The list and PCR 10 (sha256) as they are now. */
struct state {
	struct ima_counters c;
	uint8_t *list;
	size_t len;
	uint8_t pcr[32];
};

static void state_get(struct state *st)
{
	ima_counters_read(&st->c);
	if (ima_read_file(IMA_BINARY_LIST, &st->list, &st->len))
		ksft_exit_fail_perror("read " IMA_BINARY_LIST);
	memset(st->pcr, 0, sizeof(st->pcr));
	if (ima_tpm_present())
		ima_sysfs_pcr("sha256", 10, st->pcr, sizeof(st->pcr));
}

static int state_same(const struct state *a, const struct state *b)
{
	return a->c.count == b->c.count && a->c.in_memory == b->c.in_memory &&
	       a->c.trimmed == b->c.trimmed &&
	       a->c.attempts == b->c.attempts &&
	       a->c.snapshots == b->c.snapshots && a->len == b->len &&
	       !memcmp(a->list, b->list, a->len) &&
	       !memcmp(a->pcr, b->pcr, sizeof(a->pcr));
}

static void state_free(struct state *st)
{
	free(st->list);
	st->list = NULL;
}

/* Open the snapshot file, read it, and finalize it, saving the piece. */
static int snapshot_cycle(void)
{
	uint8_t *piece = NULL;
	size_t plen;
	int rc;

	rc = ima_take_snapshot(&piece, &plen);
	free(piece);
	return rc;
}

/*
 * The TPM fails reading the first PCR, or the second one (the sha256
 * bank after sha1): open fails with -EIO and nothing changes.
 */
static void test_tpm_failure(void)
{
	struct state before, after;
	int space, fd, e, ok = 1, next;
	char why[256], val[16];

	if (access(FAIL_TPM, F_OK)) {
		ksft_test_result_skip("tpm_failure_open_fails_cleanly: no %s\n",
				      FAIL_TPM);
		return;
	}
	if (!ima_tpm_present()) {
		ksft_test_result_skip("tpm_failure_open_fails_cleanly: no TPM\n");
		return;
	}
	if (attr_set(FAIL_TPM, "probability", "100") ||
	    attr_set(FAIL_TPM, "interval", "1") ||
	    attr_set(FAIL_TPM, "verbose", "0"))
		ksft_exit_fail_msg("cannot set up %s\n", FAIL_TPM);

	/* space 0: the first PCR read fails; space 2: the second one. */
	for (space = 0; space <= 2; space += 2) {
		snprintf(val, sizeof(val), "%d", space);
		attr_set(FAIL_TPM, "space", val);
		attr_set(FAIL_TPM, "times", "1");
		state_get(&before);
		fd = ima_snapshot_open(O_RDWR);
		e = fd < 0 ? -fd : 0;
		if (fd >= 0)
			close(fd);
		state_get(&after);
		if (e != EIO || !state_same(&before, &after)) {
			ksft_print_msg("failing PCR read %d: open %s, list %s\n",
				       space / 2 + 1, e ? strerror(e) : "succeeded",
				       state_same(&before, &after) ? "unchanged" : "CHANGED");
			ok = 0;
		}
		state_free(&before);
		state_free(&after);
	}
	attr_set(FAIL_TPM, "probability", "0");	/* the TPM is back */
	next = snapshot_cycle();
	ksft_test_result(ok && !next && ima_replay_matches(why, sizeof(why)),
			 "tpm_failure_open_fails_cleanly: -EIO, list, counters and PCR 10 unchanged; next snapshot %d; %s\n",
			 next, why);
}

/*
 * /proc/thread-self/fail-nth, kept open: opening it while the countdown
 * runs would spend the fault on the open.
 */
static int nth_fd = -1;

/* Make the @n-th allocation of this task's next system calls fail. */
static void fail_nth(int n)
{
	char v[16];
	int len = snprintf(v, sizeof(v), "%d", n);

	if (pwrite(nth_fd, v, len, 0) != len)
		ksft_exit_fail_perror("write fail-nth");
}

/* Was the fault injected (the countdown reached 0)?  Stops it. */
static int fail_nth_hit(void)
{
	char v[16] = "";
	int hit;

	if (pread(nth_fd, v, sizeof(v) - 1, 0) < 0)
		ksft_exit_fail_perror("read fail-nth");
	hit = atoi(v) == 0;
	if (pwrite(nth_fd, "0", 1, 0) != 1)
		ksft_exit_fail_perror("write fail-nth");
	return hit;
}

static int setup_alloc_faults(void)
{
	if (attr_set(DEBUGFS "/failslab", "ignore-gfp-wait", "N") ||
	    attr_set(DEBUGFS "/failslab", "verbose", "0"))
		return -1;
	/* fail_page_alloc is optional; failslab is the main source. */
	if (!access(DEBUGFS "/fail_page_alloc", F_OK)) {
		attr_set(DEBUGFS "/fail_page_alloc", "ignore-gfp-wait", "N");
		attr_set(DEBUGFS "/fail_page_alloc", "ignore-gfp-highmem", "N");
		attr_set(DEBUGFS "/fail_page_alloc", "min-order", "0");
		attr_set(DEBUGFS "/fail_page_alloc", "verbose", "0");
	}
	return 0;
}

/*
 * Fail the 1st, 2nd, ... allocation of open() until an open makes fewer
 * allocations than that: every allocation site of the open path fails
 * once.  A failed open must leave the list, the counters and the TPM as
 * they were.
 */
static void test_alloc_failure_open(void)
{
	int n, fd, e, hit, hits = 0, fails = 0, bad = 0, done = 0;
	struct state before, after;

	for (n = 1; n <= 400 && !done; n++) {
		state_get(&before);
		fail_nth(n);
		fd = open(IMA_SNAPSHOT, O_RDONLY);
		e = errno;
		hit = fail_nth_hit();
		hits += hit;
		if (fd >= 0) {
			close(fd);
			if (!hit)
				done = 1;	/* no allocation left to fail */
		} else {
			state_get(&after);
			fails++;
			/* ENOMEM, or EIO when the fault hit the TPM's */
			if ((e != ENOMEM && e != EIO) ||
			    !state_same(&before, &after)) {
				ksft_print_msg("fault %d: open failed with %s, list %s\n",
					       n, strerror(e),
					       state_same(&before, &after) ?
					       "unchanged" : "CHANGED");
				bad++;
			}
			state_free(&after);
		}
		state_free(&before);
	}
	ksft_test_result(done && fails > 0 && !bad,
			 "alloc_failure_open: %d faults injected in turn; %d opens failed with ENOMEM (or EIO) and changed nothing, %d succeeded anyway, %d changed something\n",
			 hits, fails, hits - fails - bad, bad);
}

/*
 * The same for the finalizing write: it allocates nothing once the
 * snapshot was read, so it must trim completely whatever fails around it.
 */
static void test_alloc_failure_finalize(void)
{
	int n, fd, hit, w, e, hits = 0, bad = 0, done = 0, rc;
	struct ima_counters before;
	uint8_t *piece;
	size_t plen;

	for (n = 1; n <= 100 && !done; n++) {
		ima_gen_reads(GEN_DIR, "f", &serial, 3);
		fd = ima_snapshot_open(O_RDWR);
		if (fd < 0 || ima_read_fd(fd, &piece, &plen))
			ksft_exit_fail_msg("open and read snapshot\n");
		ima_counters_read(&before);
		fail_nth(n);
		w = write(fd, "1", 1);
		e = errno;
		hit = fail_nth_hit();
		hits += hit;
		close(fd);
		rc = ima_reconcile_piece(&before, piece, plen);
		free(piece);
		if (!hit)
			done = 1;
		if ((w == 1 && rc != 1) || (w < 0 && (e != ENOMEM || rc != 0))) {
			ksft_print_msg("fault %d: write %s, trimmed %s\n", n,
				       w == 1 ? "succeeded" : strerror(e),
				       rc == 1 ? "all" : rc ? "something else" : "nothing");
			bad++;
		}
	}
	ksft_test_result(done && !bad,
			 "alloc_failure_finalize: %d faults injected in turn around the write; it trimmed all or, with ENOMEM, nothing (%d did not)\n",
			 hits, bad);
}

static long long meminfo_kb(const char *key)
{
	uint8_t *buf;
	size_t len, klen = strlen(key);
	long long v = -1;
	char *p;

	if (ima_read_file("/proc/meminfo", &buf, &len))
		return -1;
	buf = realloc(buf, len + 1);
	buf[len] = '\0';
	for (p = (char *)buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			v = atoll(p + klen + 1);
			break;
		}
	free(buf);
	return v;
}

/*
 * The debug kernel (kmemleak, which the harness reads, and KASAN): KASAN's
 * quarantine keeps freed objects allocated for a while.
 */
static int debug_kernel(void)
{
	return !access(DEBUGFS "/kmemleak", F_OK);
}

/*
 * One snapshot cycle for the memory test: its piece is appended to
 * @pieces, a file on tmpfs (no journal, no slab growth of its own).
 */
static int cycle_to(int pieces)
{
	uint8_t *piece = NULL;
	size_t plen;
	int fd, rc;

	fd = ima_snapshot_open(O_RDWR);
	if (fd < 0)
		return fd;
	rc = ima_read_fd(fd, &piece, &plen);
	if (!rc && ima_write_all(pieces, piece, plen))
		rc = -EIO;
	if (!rc && write(fd, "1", 1) != 1)
		rc = -errno;
	close(fd);
	free(piece);
	return rc;
}

/*
 * 1000 snapshot cycles: unreclaimable slab memory must come back to where
 * it was after the first cycles.  Each cycle adds a marker and frees the
 * one before, about 1.5 kB of kmalloc memory: a leak of it would show as
 * 1.5 MB.
 */
static void test_cycles_reclaim(int cycles)
{
	long long base, end, in_mem0, in_mem1;
	char tmp[] = "/tmp/ima-fault-cycles.bin", why[256];
	struct timespec t0, t1;
	int i, rc = 0, warm = 20, pieces;
	uint8_t *all;
	size_t len;

	pieces = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (pieces < 0)
		ksft_exit_fail_perror(tmp);
	for (i = 0; i < warm && !rc; i++)
		rc = cycle_to(pieces);
	in_mem0 = ima_read_ull(IMA_IN_MEMORY);
	base = meminfo_kb("SUnreclaim");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < cycles && !rc; i++)
		rc = cycle_to(pieces);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	end = meminfo_kb("SUnreclaim");
	in_mem1 = ima_read_ull(IMA_IN_MEMORY);
	close(pieces);
	if (ima_read_file(tmp, &all, &len) || ima_save_piece(all, len))
		ksft_exit_fail_msg("cannot save the pieces of the cycles\n");
	free(all);
	unlink(tmp);
	ksft_print_msg("%d cycles in %.1f s; SUnreclaim %lld kB -> %lld kB\n",
		       i, t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9,
		       base, end);
	ksft_test_result(!rc && in_mem1 == in_mem0 && ima_replay_matches(why, sizeof(why)),
			 "cycles_%d: every cycle finalized (%d), records in memory stay at %lld; %s\n",
			 cycles, rc, in_mem1, why);
	if (debug_kernel())
		ksft_test_result_skip("cycles_slab_returns_to_baseline: %s (%+lld kB)\n",
				      "KASAN's quarantine keeps freed objects, kmemleak checks",
				      end - base);
	else
		ksft_test_result(end - base < 128,
				 "cycles_slab_returns_to_baseline: SUnreclaim %+lld kB after %d cycles (limit +128 kB)\n",
				 end - base, cycles);
}

int main(void)
{
	const char *p, *nofail = "no fail-nth or failslab (CONFIG_FAILSLAB)";
	int cycles = 1000, have_nth;
	char why[256];

	ksft_print_header();
	imatest_require_snapshots();
	if (mkdir(GEN_DIR, 0700) && errno != EEXIST)
		ksft_exit_fail_perror("mkdir " GEN_DIR);
	p = imatest_param("cycles");
	if (p)
		cycles = atoi(p);

	ksft_set_plan(6);
	ima_gen_reads(GEN_DIR, "g", &serial, 10);
	test_tpm_failure();

	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	have_nth = nth_fd >= 0 && !access(DEBUGFS "/failslab", F_OK) &&
		   !setup_alloc_faults();
	if (have_nth) {
		test_alloc_failure_open();
		test_alloc_failure_finalize();
	} else {
		ksft_test_result_skip("alloc_failure_open: %s\n", nofail);
		ksft_test_result_skip("alloc_failure_finalize: %s\n", nofail);
	}

	test_cycles_reclaim(cycles);
	ksft_test_result(ima_replay_matches(why, sizeof(why)),
			 "fault_test_replays_to_pcr10: %s\n", why);
	rmdir(GEN_DIR);
	ksft_finished();
}
