// SPDX-License-Identifier: GPL-2.0
/*
 * ima_snapshot_agent: move the head of the IMA measurement list out of
 * kernel memory into a directory of pieces, without losing a record
 * (CONFIG_IMA_LOG_SNAPSHOT, Documentation/security/IMA-snapshot.rst).
 *
 * A snapshot is saved as DIR/piece-<START>-<END>.bin: the records START
 * to END - 1 since cold boot, in the binary_runtime_measurements format,
 * numbered by the kernel's counters (never by wall time).  The piece is
 * written to a temporary file, fsync()ed, renamed into place and the
 * directory fsync()ed; only then is the snapshot finalized, so a crash at
 * any point loses nothing: a piece whose records are still in the kernel's
 * list is removed by the recovery that starts every run.
 *
 * Processes that read the store take flock(DIR/lock): LOCK_EX to change
 * it (snapshot, recovery), LOCK_SH to read it (--stitch).
 *
 * Exit status:
 *   0  ok, or nothing to do
 *   1  usage
 *   2  not privileged (EPERM, EACCES)
 *   3  another snapshot is in progress (EBUSY)
 *   4  kexec in progress (ECANCELED): the records go to the next kernel,
 *      snapshot again after the reboot
 *   5  I/O error saving the piece (nothing was trimmed), or writing --stitch
 *   6  inconsistent piece store (a gap, an overlap, pieces of another boot)
 *   7  other kernel error (no snapshot support, TPM error, ...)
 *
 * Environment:
 *   IMA_SECURITYFS    the directory of the IMA files (default
 *                     /sys/kernel/security/ima); tests point it at fakes
 *   IMA_AGENT_STOP_AT test hook: open, copy (half the piece written),
 *                     rename (before the rename) or finalize (after the
 *                     rename and the directory fsync, before the write):
 *                     the agent kills itself with SIGKILL at that step
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include "imalog.h"

#define DEFAULT_DIR	"/var/lib/ima/snapshots"

enum {
	EX_OK,
	EX_USAGE,
	EX_PERM,
	EX_BUSY,
	EX_KEXEC,
	EX_IO,
	EX_STORE,
	EX_KERNEL,
};

static const char *store = DEFAULT_DIR;

static void msg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "ima_snapshot_agent: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: ima_snapshot_agent [--dir DIR] [--max-records N] [--max-bytes N]\n"
		"                          [--interval SEC] [--stitch] [--recover] [--help]\n"
		"\n"
		"Save the head of the IMA measurement list to DIR (default %s)\n"
		"as piece-<START>-<END>.bin and trim it from kernel memory.\n"
		"\n"
		"  --dir DIR          the piece store (created 0700 if missing)\n"
		"  --max-records N    snapshot only if runtime_measurements_in_memory >= N\n"
		"  --max-bytes N      snapshot only if runtime_measurements_in_memory_bytes >= N\n"
		"  --interval SEC     check the thresholds every SEC seconds, forever\n"
		"                     (default: once, for cron or a systemd timer)\n"
		"  --stitch           write the pieces then the live binary list to stdout:\n"
		"                     the whole log since cold boot, for tools such as evmctl\n"
		"  --recover          only clean up after an interrupted run and check the\n"
		"                     store (every run does this first)\n"
		"\n"
		"Exit status: 0 ok or nothing to do, 1 usage, 2 not privileged (EPERM/EACCES),\n"
		"3 another snapshot in progress (EBUSY), 4 kexec in progress (ECANCELED: the\n"
		"records go to the next kernel, retry after the reboot), 5 I/O error saving\n"
		"the piece (nothing trimmed), 6 inconsistent piece store (gap or overlap),\n"
		"7 other kernel error.\n"
		"\n"
		"Environment: IMA_SECURITYFS overrides /sys/kernel/security/ima.\n"
		"Test hook: IMA_AGENT_STOP_AT=open|copy|rename|finalize makes the agent\n"
		"SIGKILL itself at that step.\n", DEFAULT_DIR);
}

static void stop_at(const char *step)
{
	const char *s = getenv("IMA_AGENT_STOP_AT");

	if (s && !strcmp(s, step)) {
		msg("test hook: killing myself at step '%s'", step);
		raise(SIGKILL);
	}
}

static int errno_status(int err)
{
	switch (err) {
	case EPERM:
	case EACCES:
		return EX_PERM;
	case EBUSY:
		return EX_BUSY;
	case ECANCELED:
		return EX_KEXEC;
	default:
		return EX_KERNEL;
	}
}

static int secfs_path(char *out, const char *file)
{
	if (ima_secfs_path(out, PATH_MAX, file)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* A counter of <securityfs>/ima, or -1 with errno. */
static long long secfs_counter(const char *file)
{
	char path[PATH_MAX];
	long long v;

	if (secfs_path(path, file))
		return -1;
	errno = 0;
	v = ima_read_ull(path);
	if (v < 0 && !errno)
		errno = EINVAL;
	return v;
}

static int read_live(uint8_t **buf, size_t *len)
{
	char path[PATH_MAX];

	if (secfs_path(path, "binary_runtime_measurements"))
		return -1;
	return ima_read_file(path, buf, len);
}

static int store_path(char *out, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", store, name);

	if (n < 0 || n >= PATH_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int fsync_store(void)
{
	int fd = open(store, O_RDONLY | O_DIRECTORY), rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* mkdir -p, the last component (the store) 0700. */
static int make_store(void)
{
	char p[PATH_MAX], *s;

	if (snprintf(p, sizeof(p), "%s", store) >= (int)sizeof(p)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if (mkdir(p, 0700) && errno != EEXIST)
		return -1;
	return 0;
}

/* flock() DIR/lock; returns the fd (held until closed) or -1. */
static int lock_store(int how)
{
	char path[PATH_MAX];
	int fd;

	if (store_path(path, "lock"))
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 && how == LOCK_SH)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		msg("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while (flock(fd, how)) {
		if (errno == EINTR)
			continue;
		msg("cannot lock %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Check that the pieces hold the records 0 to @trimmed - 1, each once.
 * Returns EX_OK or EX_STORE (after saying what is wrong).
 */
static int check_store(const struct ima_piece *p, int n,
		       unsigned long long trimmed)
{
	unsigned long long next = 0;
	int i, bad = 0;

	for (i = 0; i < n; i++) {
		if (!p[i].named) {
			msg("%s/%s: not a piece-<START>-<END>.bin name", store,
			    p[i].name);
			bad = 1;
			continue;
		}
		if (p[i].start > next)
			msg("gap: records %llu to %llu are in no piece (before %s)",
			    next, p[i].start - 1, p[i].name);
		else if (p[i].start < next)
			msg("overlap: %s starts at record %llu, the pieces before it end at %llu",
			    p[i].name, p[i].start, next);
		bad |= p[i].start != next;
		next = p[i].end;
	}
	if (next < trimmed) {
		msg("gap: records %llu to %llu were trimmed but are in no piece",
		    next, trimmed - 1);
		bad = 1;
	} else if (next > trimmed) {
		msg("the pieces go up to record %llu, but only %llu records were trimmed",
		    next, trimmed);
		bad = 1;
	}
	if (bad)
		msg("inconsistent store %s: the log since cold boot cannot be rebuilt",
		    store);
	return bad ? EX_STORE : EX_OK;
}

/* Remove the .tmp-* files of runs that died before their rename. */
static int remove_temps(int *changed)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(store);

	if (!d) {
		msg("cannot read %s: %s", store, strerror(errno));
		return EX_IO;
	}
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, ".tmp-", 5) ||
		    store_path(path, de->d_name))
			continue;
		if (unlink(path)) {
			msg("cannot remove %s: %s", path, strerror(errno));
			closedir(d);
			return EX_IO;
		}
		msg("removed %s: left by a run that did not finish", path);
		*changed = 1;
	}
	closedir(d);
	return EX_OK;
}

/*
 * A piece whose records are still at the head of the live list: a run
 * was stopped between its rename and its finalize, or the finalize failed.
 */
static int piece_is_live_head(const struct ima_piece *p,
			      unsigned long long trimmed,
			      const uint8_t *live, size_t llen)
{
	char path[PATH_MAX];
	uint8_t *buf;
	size_t len;
	int same;

	if (p->start != trimmed || store_path(path, p->name) ||
	    ima_read_file(path, &buf, &len))
		return 0;
	same = len && len <= llen && !memcmp(buf, live, len) &&
	       ima_count_recs(buf, len) == (long)(p->end - p->start);
	free(buf);
	return same;
}

/* Move the pieces of an earlier cold boot to DIR/boot-<time>/. */
static int archive_pieces(const struct ima_piece *p, int n)
{
	char sub[64], dst[PATH_MAX], src[PATH_MAX], rel[PATH_MAX];
	time_t now = time(NULL);
	struct tm tm;
	int i;

	localtime_r(&now, &tm);
	strftime(sub, sizeof(sub), "boot-%Y%m%d-%H%M%S", &tm);
	if (store_path(dst, sub) || (mkdir(dst, 0700) && errno != EEXIST)) {
		msg("cannot create %s: %s", dst, strerror(errno));
		return EX_IO;
	}
	for (i = 0; i < n; i++) {
		if (snprintf(rel, sizeof(rel), "%s/%s", sub, p[i].name) >=
		    (int)sizeof(rel) || store_path(dst, rel) ||
		    store_path(src, p[i].name) || rename(src, dst)) {
			msg("cannot move %s to %s/%s: %s", p[i].name, store,
			    sub, strerror(errno));
			return EX_IO;
		}
	}
	msg("moved %d pieces of an earlier cold boot to %s/%s", n, store, sub);
	return EX_OK;
}

/* Clean up after interrupted runs and check the store.  Under LOCK_EX. */
static int recover(void)
{
	unsigned long long trimmed;
	struct ima_piece *p = NULL;
	uint8_t *live = NULL;
	size_t llen = 0;
	char path[PATH_MAX];
	long long t;
	int i, j, n, rc, changed = 0, foreign = 0;

	rc = remove_temps(&changed);
	if (rc)
		return rc;
	t = secfs_counter("runtime_measurements_trimmed");
	if (t < 0) {
		msg("cannot read %s/runtime_measurements_trimmed: %s",
		    ima_secfs_dir(), strerror(errno));
		return EX_KERNEL;
	}
	trimmed = t;
	n = ima_pieces_list(store, &p);
	if (n < 0) {
		msg("cannot list %s: %s", store, strerror(errno));
		return EX_IO;
	}
	for (i = j = 0; i < n; i++) {
		if (!p[i].named || p[i].end <= trimmed) {
			p[j++] = p[i];
			continue;
		}
		if (!live && read_live(&live, &llen)) {
			msg("cannot read the live list: %s", strerror(errno));
			rc = EX_KERNEL;
			goto out;
		}
		if (!piece_is_live_head(&p[i], trimmed, live, llen)) {
			foreign++;
			p[j++] = p[i];
			continue;
		}
		if (store_path(path, p[i].name) || unlink(path)) {
			msg("cannot remove %s/%s: %s", store, p[i].name,
			    strerror(errno));
			rc = EX_IO;
			goto out;
		}
		msg("removed %s/%s: not finalized, its records are still live",
		    store, p[i].name);
		changed = 1;
	}
	n = j;
	if (foreign && trimmed == 0) {
		/*
		 * Nothing was trimmed since this cold boot, so no piece belongs
		 * to it: keep them out of the way rather than delete them.
		 */
		rc = archive_pieces(p, n);
		if (rc)
			goto out;
		changed = 1;
		n = 0;
	} else if (foreign) {
		msg("%d pieces go past the %llu trimmed records, but not as the live list",
		    foreign, trimmed);
	}
	if (changed && fsync_store()) {
		msg("cannot fsync %s: %s", store, strerror(errno));
		rc = EX_IO;
		goto out;
	}
	rc = check_store(p, n, trimmed);
out:
	free(live);
	free(p);
	return rc;
}

/* Save the piece in @buf as @name, durably.  EX_OK or EX_IO. */
static int save_piece(const char *name, const uint8_t *buf, size_t len)
{
	char tmp[PATH_MAX], path[PATH_MAX], t[32];
	size_t half = len / 2;
	int fd;

	snprintf(t, sizeof(t), ".tmp-%d", (int)getpid());
	if (store_path(tmp, t) || store_path(path, name)) {
		msg("%s: %s", store, strerror(errno));
		return EX_IO;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		msg("cannot create %s: %s", tmp, strerror(errno));
		return EX_IO;
	}
	if (ima_write_all(fd, buf, half))
		goto err;
	stop_at("copy");
	if (ima_write_all(fd, buf + half, len - half) || fsync(fd))
		goto err;
	if (close(fd)) {
		fd = -1;
		goto err;
	}
	fd = -1;
	stop_at("rename");
	if (rename(tmp, path))
		goto err;
	if (fsync_store()) {
		msg("cannot fsync %s: %s", store, strerror(errno));
		unlink(path);
		return EX_IO;
	}
	return EX_OK;
err:
	msg("cannot save %s: %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return EX_IO;
}

/* The Measurement_Count of the marker at byte @off of the live list. */
static long long marker_at(size_t off)
{
	struct ima_marker mk;
	struct ima_rec r;
	uint8_t *live;
	size_t len;
	long long n = -1;

	if (read_live(&live, &len)) {
		msg("cannot read the live list: %s", strerror(errno));
		return -1;
	}
	if (ima_next_rec(live, len, &off, &r) == 1 && !ima_rec_marker(&r, &mk))
		n = mk.records;
	else
		msg("no snapshot_aggregate record after the snapshot in the live list");
	free(live);
	return n;
}

/* Open, read, save, finalize.  Under LOCK_EX, after recover(). */
static int do_snapshot(void)
{
	unsigned long long start, end;
	char path[PATH_MAX], name[64];
	uint8_t *buf = NULL;
	long long m, trimmed;
	size_t len;
	long nrec;
	int fd, rc;

	if (secfs_path(path, "snapshot"))
		return EX_KERNEL;
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = errno;
		if (rc == EPERM || rc == EACCES)
			msg("cannot open %s: %s: needs root with CAP_SYS_ADMIN",
			    path, strerror(rc));
		else if (rc == EBUSY)
			msg("cannot open %s: another snapshot is in progress", path);
		else if (rc == ECANCELED)
			msg("cannot open %s: kexec in progress, retry after the reboot",
			    path);
		else
			msg("cannot open %s: %s", path, strerror(rc));
		return errno_status(rc);
	}
	stop_at("open");
	rc = ima_read_fd(fd, &buf, &len);
	if (rc) {
		msg("cannot read %s: %s", path, strerror(-rc));
		close(fd);
		return errno_status(-rc);
	}
	if (!len) {
		msg("nothing to save");
		rc = EX_OK;
		goto out;
	}
	rc = EX_KERNEL;
	nrec = ima_count_recs(buf, len);
	if (nrec <= 0) {
		msg("%s is not a binary measurement list", path);
		goto out;
	}
	/* Nothing trims while we hold the file: the marker follows it. */
	m = marker_at(len);
	if (m < 0)
		goto out;
	if (m < nrec) {
		msg("the marker counts %lld records before it, %s holds %ld",
		    m, path, nrec);
		goto out;
	}
	end = m;
	start = end - nrec;
	trimmed = secfs_counter("runtime_measurements_trimmed");
	if (trimmed < 0 || (unsigned long long)trimmed != start) {
		msg("%s holds records %llu to %llu, but %lld were trimmed",
		    path, start, end - 1, trimmed);
		goto out;
	}
	snprintf(name, sizeof(name), IMA_PIECE_FMT, start, end);
	rc = save_piece(name, buf, len);
	if (rc) {
		msg("nothing was trimmed");
		goto out;
	}
	stop_at("finalize");
	if (write(fd, "1", 1) != 1) {
		int err = errno;

		/*
		 * EALREADY: an earlier write on this fd trimmed the records,
		 * the piece is their only copy.  Otherwise nothing was
		 * trimmed: the records are (or go) elsewhere.
		 */
		if (err == EALREADY) {
			msg("finalize: already finalized: %s kept", name);
			rc = EX_OK;
			goto out;
		}
		if (!store_path(path, name))
			unlink(path);
		fsync_store();
		if (err == ECANCELED) {
			msg("finalize: kexec in progress: the records go to the next kernel");
			msg("%s removed; snapshot again after the reboot", name);
		} else {
			msg("finalize: %s; %s removed, nothing was trimmed",
			    strerror(err), name);
		}
		rc = errno_status(err);
		goto out;
	}
	msg("saved %s/%s: records %llu to %llu (%zu bytes), trimmed", store,
	    name, start, end - 1, len);
	rc = EX_OK;
out:
	close(fd);
	free(buf);
	return rc;
}

struct opts {
	long long max_records, max_bytes;
	unsigned int interval;
	int stitch, recover;
};

/* Is a snapshot due?  1 yes, 0 no, -1 error. */
static int due(const struct opts *o)
{
	long long recs, bytes;

	if (o->max_records < 0 && o->max_bytes < 0)
		return 1;
	recs = secfs_counter("runtime_measurements_in_memory");
	bytes = secfs_counter("runtime_measurements_in_memory_bytes");
	if (recs < 0 || bytes < 0) {
		msg("cannot read runtime_measurements_in_memory[_bytes]: %s",
		    strerror(errno));
		return -1;
	}
	if ((o->max_records >= 0 && recs >= o->max_records) ||
	    (o->max_bytes >= 0 && bytes >= o->max_bytes))
		return 1;
	if (!o->interval)
		msg("%lld records, %lld bytes in memory: below the thresholds, nothing to do",
		    recs, bytes);
	return 0;
}

static int run_once(const struct opts *o)
{
	int lock, rc, d;

	if (make_store()) {
		msg("cannot create %s: %s", store, strerror(errno));
		return EX_IO;
	}
	lock = lock_store(LOCK_EX);
	if (lock < 0)
		return EX_IO;
	rc = recover();
	if (rc || o->recover)
		goto out;
	d = due(o);
	if (d < 0)
		rc = EX_KERNEL;
	else if (d)
		rc = do_snapshot();
out:
	close(lock);
	return rc;
}

/* Read the live list and the number of records before it, consistently. */
static int read_live_consistent(uint8_t **live, size_t *llen,
				unsigned long long *head)
{
	struct ima_marker mk;
	struct ima_rec r;
	long long t1 = -1, t2, m;
	size_t off;
	int i;

	for (i = 0; i < 10; i++) {
		t1 = secfs_counter("runtime_measurements_trimmed");
		if (read_live(live, llen)) {
			if (errno == ESTALE)
				continue;	/* trimmed while we read */
			msg("cannot read the live list: %s", strerror(errno));
			return EX_KERNEL;
		}
		t2 = secfs_counter("runtime_measurements_trimmed");
		if (t1 == t2)
			break;
		free(*live);
		*live = NULL;
	}
	if (!*live) {
		msg("the live list kept changing under us");
		return EX_KERNEL;
	}
	/*
	 * A trimmed list starts with the marker of the last snapshot.  A
	 * kernel without CONFIG_IMA_LOG_SNAPSHOT (after a kexec) has no
	 * counter, but restores the list as it was trimmed.
	 */
	off = 0;
	m = -1;
	if (ima_next_rec(*live, *llen, &off, &r) == 1 &&
	    !ima_rec_marker(&r, &mk))
		m = mk.records;
	if (t1 < 0)
		t1 = m < 0 ? 0 : m;
	if ((m >= 0 && m != t1) || (m < 0 && t1)) {
		msg("%lld records were trimmed, the live list does not start after them",
		    t1);
		return EX_KERNEL;
	}
	*head = t1;
	return EX_OK;
}

/* Pieces then the live list to stdout.  Under LOCK_SH. */
static int stitch(void)
{
	unsigned long long head;
	struct ima_piece *p = NULL;
	uint8_t *live = NULL, *buf;
	char path[PATH_MAX];
	size_t llen, len;
	int i, n, rc, lock = -1;

	if (access(store, F_OK) == 0) {
		lock = lock_store(LOCK_SH);
		if (lock < 0)
			return EX_IO;
		n = ima_pieces_list(store, &p);
		if (n < 0) {
			msg("cannot list %s: %s", store, strerror(errno));
			rc = EX_IO;
			goto out;
		}
	} else {
		n = 0;
	}
	rc = read_live_consistent(&live, &llen, &head);
	if (rc)
		goto out;
	/* A piece left by an interrupted run: its records are live. */
	while (n && p[n - 1].named && p[n - 1].start == head &&
	       p[n - 1].end > head) {
		msg("skipping %s: not finalized, its records are still live",
		    p[n - 1].name);
		n--;
	}
	rc = check_store(p, n, head);
	if (rc)
		goto out;
	for (i = 0; i < n; i++) {
		if (store_path(path, p[i].name) ||
		    ima_read_file(path, &buf, &len)) {
			msg("cannot read %s: %s", path, strerror(errno));
			rc = EX_IO;
			goto out;
		}
		if (ima_count_recs(buf, len) != (long)(p[i].end - p[i].start)) {
			msg("%s does not hold the %llu records its name says",
			    path, p[i].end - p[i].start);
			free(buf);
			rc = EX_STORE;
			goto out;
		}
		if (ima_write_all(STDOUT_FILENO, buf, len)) {
			msg("writing to stdout: %s", strerror(errno));
			free(buf);
			rc = EX_IO;
			goto out;
		}
		free(buf);
	}
	if (ima_write_all(STDOUT_FILENO, live, llen)) {
		msg("writing to stdout: %s", strerror(errno));
		rc = EX_IO;
	}
out:
	if (lock >= 0)
		close(lock);
	free(live);
	free(p);
	return rc;
}

static int parse_num(const char *s, long long *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || end == s || *end || *out < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "max-records", required_argument, NULL, 'r' },
		{ "max-bytes", required_argument, NULL, 'b' },
		{ "interval", required_argument, NULL, 'i' },
		{ "stitch", no_argument, NULL, 's' },
		{ "recover", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct opts o = { .max_records = -1, .max_bytes = -1 };
	long long v;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			store = optarg;
			break;
		case 'r':
		case 'b':
		case 'i':
			if (parse_num(optarg, &v) || (c == 'i' && (!v || v > 86400 * 365))) {
				msg("bad number: %s", optarg);
				return EX_USAGE;
			}
			if (c == 'r')
				o.max_records = v;
			else if (c == 'b')
				o.max_bytes = v;
			else
				o.interval = v;
			break;
		case 's':
			o.stitch = 1;
			break;
		case 'R':
			o.recover = 1;
			break;
		case 'h':
			print_usage(stdout);
			return EX_OK;
		default:
			print_usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind != argc || (o.stitch && (o.recover || o.interval ||
					    o.max_records >= 0 || o.max_bytes >= 0)) ||
	    (o.recover && o.interval) ||
	    (o.interval && o.max_records < 0 && o.max_bytes < 0)) {
		if (o.interval && o.max_records < 0 && o.max_bytes < 0)
			msg("--interval needs --max-records or --max-bytes");
		print_usage(stderr);
		return EX_USAGE;
	}
	if (o.stitch)
		return stitch();
	if (!o.interval)
		return run_once(&o);
	for (;;) {
		rc = run_once(&o);
		/* Retrying cannot help these. */
		if (rc == EX_PERM || rc == EX_KEXEC || rc == EX_STORE)
			return rc;
		sleep(o.interval);
	}
}
