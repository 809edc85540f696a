// SPDX-License-Identifier: GPL-2.0
/*
 * Helper of ima_kexec_test.sh: the steps of the kexec scenarios that need
 * more than a shell.  Saved pieces go to ima_saved_path() ($IMATEST_SAVED),
 * which the test keeps on a disk that survives kexec.
 *
 *   ima_kexec_helper snapshot
 *	take a snapshot and finalize it (the piece is saved first); prints
 *	"marker N" with the marker's Measurement_Count
 *   ima_kexec_helper hold FILE
 *	open the snapshot file and read it to its end without saving, write
 *	"marker N" to FILE, then keep the file open until killed (a client
 *	that has not finalized yet when kexec executes)
 *   ima_kexec_helper race FILE
 *	as hold, then spin until an open of the snapshot file fails with
 *	ECANCELED (the kexec dump began) and try to finalize; the result
 *	goes to the kernel log at KERN_EMERG, the only channel that still
 *	works while the machine goes down
 *   ima_kexec_helper verify [--head N|--head none] [--has N]... [--off]
 *	check the saved pieces + the live list: the first live record is
 *	the marker whose Measurement_Count is N (or not a marker), markers
 *	N are in the list, every marker's count equals its position since
 *	cold boot and its PCR values equal the replay up to it, the whole
 *	log replays to the TPM's PCR 10 in every bank, and the counters
 *	add up (--off: the kernel has no snapshot support)
 *
 * Exit status: 0 when every check passed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "imalog.h"

static int failed;

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("%s - ", ok ? "ok" : "not ok");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	if (!ok)
		failed = 1;
}

/* Measurement_Count of the marker at byte @off of the live list. */
static long long live_marker_at(size_t off)
{
	struct ima_marker mk;
	struct ima_rec r;
	uint8_t *buf;
	size_t len;
	long long n = -1;

	if (ima_read_file(IMA_BINARY_LIST, &buf, &len))
		return -1;
	if (ima_next_rec(buf, len, &off, &r) == 1 && !ima_rec_marker(&r, &mk))
		n = mk.records;
	free(buf);
	return n;
}

static int cmd_snapshot(void)
{
	uint8_t *piece;
	size_t plen;
	int rc = ima_take_snapshot(&piece, &plen);
	long long n;

	if (rc) {
		fprintf(stderr, "snapshot: %s\n", strerror(-rc));
		return 1;
	}
	/* Finalized: the live list starts with the marker. */
	n = live_marker_at(0);
	free(piece);
	if (n < 0) {
		fprintf(stderr, "snapshot: the list does not start with a marker\n");
		return 1;
	}
	printf("marker %lld\n", n);
	return 0;
}

/* Open and read to the end; report the marker in @file.  Returns the fd. */
static int open_and_read(const char *file)
{
	uint8_t *piece;
	size_t plen;
	long long n;
	FILE *f;
	int fd, rc;

	fd = ima_snapshot_open(O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "open: %s\n", strerror(-fd));
		return -1;
	}
	rc = ima_read_fd(fd, &piece, &plen);
	if (rc) {
		fprintf(stderr, "read: %s\n", strerror(-rc));
		return -1;
	}
	free(piece);
	/* Nothing trims while we hold the file: the marker follows it. */
	n = live_marker_at(plen);
	f = fopen(file, "w");
	if (n < 0 || !f || fprintf(f, "marker %lld\n", n) < 0 || fflush(f) ||
	    fsync(fileno(f)) || fclose(f)) {
		fprintf(stderr, "cannot report the marker to %s\n", file);
		return -1;
	}
	return fd;
}

static int cmd_hold(const char *file)
{
	int fd = open_and_read(file);

	if (fd < 0)
		return 1;
	for (;;)
		pause();
}

static int cmd_race(const char *file)
{
	int fd = open_and_read(file), kmsg, err;
	cpu_set_t cpus;
	char msg[160];

	if (fd < 0)
		return 1;
	kmsg = open("/dev/kmsg", O_WRONLY);
	if (kmsg < 0) {
		perror("/dev/kmsg");
		return 1;
	}
	/* Keep off the CPU that kexec runs on (the test pins it to CPU 0). */
	CPU_ZERO(&cpus);
	CPU_SET(1, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	/*
	 * Spin on open(): -EBUSY while our fd is open, -ECANCELED from the
	 * moment the kexec notifier takes the list, then finalize at once,
	 * while the notifier still copies the list.
	 */
	for (;;) {
		int p = open(IMA_SNAPSHOT, O_RDONLY);

		if (p < 0 && errno == ECANCELED)
			break;
		if (p >= 0 || errno != EBUSY) {
			dprintf(kmsg, "<0>imatest: race probe failed: %s\n",
				p >= 0 ? "open succeeded" : strerror(errno));
			return 1;
		}
	}
	err = write(fd, "1", 1) == 1 ? 0 : errno;
	snprintf(msg, sizeof(msg),
		 "<0>imatest: finalize after the kexec dump began: %s\n",
		 err == ECANCELED ? "ECANCELED" :
		 err ? strerror(err) : "succeeded");
	if (write(kmsg, msg, strlen(msg)) < 0)
		return 1;
	for (;;)
		pause();
}

/* Count the marker's PCR values that differ from the replay so far. */
static int marker_pcrs_differ(const struct ima_marker *mk,
			      const struct ima_banks *bs)
{
	int i, b, bad = 0;

	for (i = 0; i < mk->npcrs; i++) {
		const struct ima_marker_pcr *p = &mk->pcrs[i];

		for (b = 0; b < bs->n; b++)
			if (!strcmp(bs->b[b].name, p->alg))
				break;
		if (b == bs->n || p->len != bs->b[b].len ||
		    memcmp(p->value, bs->b[b].pcr[p->pcr], p->len)) {
			printf("# marker %lld: %s PCR %d differs from the replay\n",
			       mk->records, p->alg, p->pcr);
			bad++;
		}
	}
	return bad;
}

struct expect {
	long long head;			/* -1: none, -2: not checked */
	long long has[8];
	int nhas;
	int off;
};

static int cmd_verify(const struct expect *ex)
{
	long long first_marker = -1, seen[8] = { 0 };
	uint8_t *saved = NULL, *live = NULL, v[IMA_MAX_DIGEST];
	size_t slen = 0, llen, off = 0;
	struct ima_banks bs;
	struct ima_rec r;
	long long pos = 0, live_recs, count, inmem = 0, trimmed = 0;
	int i, j, rc, bad_marker = 0, bad_digest = 0, markers = 0;

	if (ima_banks_from_tpm(&bs)) {
		check(0, "read the TPM's banks");
		return 1;
	}
	if (ima_read_file(ima_saved_path(), &saved, &slen) && errno != ENOENT) {
		check(0, "read the saved pieces %s", ima_saved_path());
		return 1;
	}
	/* A list and counters that belong together: nothing measured between. */
	for (i = 0; i < 10; i++) {
		count = ima_read_ull(IMA_COUNT);
		if (!ex->off) {
			inmem = ima_read_ull(IMA_IN_MEMORY);
			trimmed = ima_read_ull(IMA_TRIMMED);
		}
		if (ima_read_file(IMA_BINARY_LIST, &live, &llen)) {
			check(0, "read the live list");
			return 1;
		}
		if (ima_read_ull(IMA_COUNT) == count)
			break;
		free(live);
		live = NULL;
	}
	if (!live) {
		check(0, "the list stopped changing long enough to read it");
		return 1;
	}

	/* Replay saved pieces, then the live list, checking each marker. */
	for (i = 0; i < 2; i++) {
		const uint8_t *buf = i ? live : saved;
		size_t len = i ? llen : slen;

		off = 0;
		while ((rc = ima_next_rec(buf, len, &off, &r)) == 1) {
			struct ima_marker mk;

			if (ima_rec_check_digest(&r))
				bad_digest++;
			if (!ima_rec_marker(&r, &mk)) {
				markers++;
				if (i && first_marker == -1 && r.offset == 0)
					first_marker = mk.records;
				if (mk.records != pos) {
					printf("# marker at record %lld says %s=%lld\n",
					       pos, "Measurement_Count",
					       mk.records);
					bad_marker++;
				}
				bad_marker += marker_pcrs_differ(&mk, &bs);
				for (j = 0; j < ex->nhas; j++)
					if (ex->has[j] == mk.records && i)
						seen[j] = 1;
			}
			ima_banks_extend(&bs, &r);
			pos++;
		}
		if (rc < 0) {
			check(0, "%s list parses", i ? "live" : "saved");
			return 1;
		}
	}
	live_recs = ima_count_recs(live, llen);
	check(!bad_digest, "every template digest matches its data (%d bad)",
	      bad_digest);
	check(!bad_marker,
	      "%d markers: counts equal their place since cold boot, PCR values equal the replay",
	      markers);

	if (ex->head == -1)
		check(first_marker == -1, "the live list does not start with a marker");
	else if (ex->head >= 0)
		check(first_marker == ex->head,
		      "the live list starts with marker %lld (found %lld)",
		      ex->head, first_marker);
	for (j = 0; j < ex->nhas; j++)
		check(seen[j], "marker %lld is in the live list", ex->has[j]);

	for (i = 0; i < bs.n; i++) {
		int ok = !ima_sysfs_pcr(bs.b[i].name, 10, v, bs.b[i].len) &&
			 !memcmp(v, bs.b[i].pcr[10], bs.b[i].len);

		check(ok, "saved pieces + live list (%lld records) replay to PCR 10 in bank %s",
		      pos, bs.b[i].name);
	}

	if (ex->off) {
		check(access(IMA_SNAPSHOT, F_OK) && errno == ENOENT,
		      "no snapshot file on the feature-off kernel");
		check(count == live_recs,
		      "runtime_measurements_count (%lld) counts the records in memory (%lld), as upstream",
		      count, live_recs);
	} else {
		check(count == pos,
		      "runtime_measurements_count %lld counts since cold boot (%lld)",
		      count, pos);
		check(count == inmem + trimmed,
		      "since boot %lld = in memory %lld + trimmed %lld",
		      count, inmem, trimmed);
		check(inmem == live_recs, "in memory %lld = records listed %lld",
		      inmem, live_recs);
		check(trimmed == (first_marker < 0 ? 0 : first_marker),
		      "trimmed %lld = records before the head marker", trimmed);
		check(ima_read_ull(IMA_SNAPSHOT_COUNT) >= (first_marker < 0 ? 0 : 1),
		      "snapshot_count %lld", ima_read_ull(IMA_SNAPSHOT_COUNT));
	}
	free(saved);
	free(live);
	return failed;
}

static int bad_args(void)
{
	fprintf(stderr,
		"usage: ima_kexec_helper snapshot | hold FILE | race FILE |\n"
		"       verify [--head N|none] [--has N]... [--off]\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct expect ex = { .head = -2 };
	int i;

	if (argc < 2)
		return bad_args();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "snapshot"))
		return cmd_snapshot();
	if (!strcmp(argv[1], "hold") && argc == 3)
		return cmd_hold(argv[2]);
	if (!strcmp(argv[1], "race") && argc == 3)
		return cmd_race(argv[2]);
	if (strcmp(argv[1], "verify"))
		return bad_args();
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--off")) {
			ex.off = 1;
		} else if (!strcmp(argv[i], "--head") && i + 1 < argc) {
			i++;
			ex.head = strcmp(argv[i], "none") ? atoll(argv[i]) : -1;
		} else if (!strcmp(argv[i], "--has") && i + 1 < argc &&
			   ex.nhas < (int)ARRAY_SIZE(ex.has)) {
			ex.has[ex.nhas++] = atoll(argv[++i]);
		} else {
			return bad_args();
		}
	}
	return cmd_verify(&ex);
}
