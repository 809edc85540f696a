// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark helper for IMA measurement list snapshots; not a test.
 *
 *   ima_bench gen N DIR      add N records: create, read and unlink N
 *                            files in DIR (needs a policy that measures
 *                            FILE_CHECK reads there); prints records/s
 *   ima_bench snapshot FILE  take a snapshot (open, read, save to FILE,
 *                            finalize); prints what the kernel measured
 *                            (snapshot_stats, CONFIG_IMA_LOG_SNAPSHOT_STATS)
 *                            and the wall times of each step
 *   ima_bench read PATH      read PATH to the end in 64 KiB reads; prints
 *                            bytes and seconds
 *   ima_bench marker K       K times: open the snapshot file read-only
 *                            (adds a marker) and close it; prints a line
 *                            "marker <hold_ns> <total_ns> <tpm_commands>"
 *                            per open, from snapshot_stats
 *   ima_bench loop SEC MS    take a snapshot (saved to /dev/null) every MS
 *                            milliseconds for SEC seconds; prints how many
 *
 * Output lines are "key value" pairs, for scripts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "imalog.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int gen(long n, const char *dir)
{
	char path[256], b;
	double t0 = now();
	long i;
	int fd;

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/r%d-%ld", dir, getpid(), i);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || write(fd, path, strlen(path)) < 0) {
			perror(path);
			return 1;
		}
		close(fd);
		fd = open(path, O_RDONLY);
		if (fd < 0 || read(fd, &b, 1) < 0) {
			perror(path);
			return 1;
		}
		close(fd);
		unlink(path);
	}
	printf("gen_records %ld\ngen_seconds %.3f\ngen_records_per_s %.0f\n",
	       n, now() - t0, n / (now() - t0));
	return 0;
}

static void print_file(const char *path)
{
	uint8_t *buf;
	size_t len;

	if (ima_read_file(path, &buf, &len))
		return;
	fwrite(buf, 1, len, stdout);
	free(buf);
}

static int snapshot(const char *save)
{
	static uint8_t buf[1 << 16];
	double t0, t1, t2, t3;
	size_t total = 0;
	ssize_t r;
	int fd, out;

	out = open(save, O_WRONLY | O_CREAT | O_APPEND, 0600);
	t0 = now();
	fd = open(IMA_SNAPSHOT, O_RDWR);
	if (fd < 0 || out < 0) {
		perror("open");
		return 1;
	}
	t1 = now();
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		if (write(out, buf, r) != r) {
			perror("save");
			return 1;
		}
		total += r;
	}
	fsync(out);
	t2 = now();
	if (r < 0 || write(fd, "1", 1) != 1) {
		perror("finalize");
		return 1;
	}
	t3 = now();
	close(fd);
	close(out);
	printf("open_s %.6f\nread_save_s %.6f\nfinalize_s %.6f\nsnapshot_bytes %zu\n",
	       t1 - t0, t2 - t1, t3 - t2, total);
	print_file(IMA_SECFS "/snapshot_stats");
	return 0;
}

static int readall(const char *path)
{
	static uint8_t buf[1 << 16];
	double t0 = now();
	size_t total = 0;
	ssize_t r;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		perror(path);
		return 1;
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		total += r;
	close(fd);
	printf("read_bytes %zu\nread_s %.6f\n", total, now() - t0);
	return r < 0;
}

static long long stat_value(const uint8_t *buf, size_t len, const char *key)
{
	char needle[64];
	const char *p;

	snprintf(needle, sizeof(needle), "%s ", key);
	p = memmem(buf, len, needle, strlen(needle));
	return p ? atoll(p + strlen(needle)) : -1;
}

static int markers(long k)
{
	uint8_t *st;
	size_t len;
	long i;
	int fd;

	for (i = 0; i < k; i++) {
		fd = open(IMA_SNAPSHOT, O_RDONLY);
		if (fd < 0) {
			perror(IMA_SNAPSHOT);
			return 1;
		}
		close(fd);
		if (ima_read_file(IMA_SECFS "/snapshot_stats", &st, &len)) {
			perror("snapshot_stats");
			return 1;
		}
		printf("marker %lld %lld %lld\n",
		       stat_value(st, len, "marker_hold_ns"),
		       stat_value(st, len, "marker_total_ns"),
		       stat_value(st, len, "marker_tpm_commands"));
		free(st);
	}
	return 0;
}

static int loop(double secs, long ms)
{
	static uint8_t buf[1 << 16];
	double end = now() + secs;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	long n = 0;
	ssize_t r;
	int fd;

	while (now() < end) {
		fd = open(IMA_SNAPSHOT, O_RDWR);
		if (fd < 0) {
			perror(IMA_SNAPSHOT);
			return 1;
		}
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			;
		if (r < 0 || write(fd, "1", 1) != 1) {
			perror("finalize");
			return 1;
		}
		close(fd);
		n++;
		nanosleep(&ts, NULL);
	}
	printf("loop_snapshots %ld\n", n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "gen"))
		return gen(atol(argv[2]), argv[3]);
	if (argc == 3 && !strcmp(argv[1], "snapshot"))
		return snapshot(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "read"))
		return readall(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "marker"))
		return markers(atol(argv[2]));
	if (argc == 4 && !strcmp(argv[1], "loop"))
		return loop(atof(argv[2]), atol(argv[3]));
	fprintf(stderr,
		"usage: ima_bench gen N DIR | snapshot FILE | read PATH | marker K | loop SEC MS\n");
	return 2;
}
