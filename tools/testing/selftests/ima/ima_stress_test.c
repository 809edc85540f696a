// SPDX-License-Identifier: GPL-2.0
/*
 * Stress the measurement list with snapshots (CONFIG_IMA_LOG_SNAPSHOT),
 * for a bounded time (imatest.stress_seconds=, default 20 s):
 *
 *  - workers add measurements: each reads new files on the measured
 *    root, named /ima-stress/w<worker>-<n> with n counting from 0;
 *  - two readers hold ascii_runtime_measurements and
 *    binary_runtime_measurements open for the whole run and read them
 *    slowly, in small odd-sized pieces; a reader whose next record was
 *    trimmed gets ESTALE and reopens.  Within one open file a reader
 *    must see every worker's files in order, each exactly once: no
 *    record skipped, none repeated;
 *  - a reader reopens binary_runtime_measurements in a loop, another
 *    reads it with pread() and lseek() at random offsets;
 *  - a snapshot loop runs the reference agent (ima_snapshot_agent) into a
 *    store, kills it at random moments and at each step
 *    (IMA_AGENT_STOP_AT), opens and abandons snapshots, and adds markers
 *    alone (read-only opens).
 *
 * At the end: ima_verify passes on the store + the live list (every
 * marker, every segment digest, PCR 10 in every bank), every worker's
 * files are in the whole log exactly once and in order, and
 * runtime_measurements_count = in memory + trimmed.  The harness fails the
 * run on any kernel splat (KASAN, lockdep, RCU, kmemleak, list debugging).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest.h"
#include "imalog.h"
#include "imatest.h"

#define GEN_DIR		"/ima-stress"
#define STORE		"/tmp/ima-stress-store"
#define WORKERS		2
#define MAX_WORKERS	8

/* Readers: 0 ascii holder, 1 binary holder, 2 reopener, 3 seeker, 4 slow */
#define NREADERS	5

/* Shared between the processes of the run (MAP_SHARED). */
struct stats {
	long gen[MAX_WORKERS];		/* files each worker read */
	long reads[NREADERS], bytes[NREADERS], recs[NREADERS];
	long estale[NREADERS], reopens[NREADERS];
	long errors[NREADERS];		/* a skip, a repeat, a bad record */
	char first_error[NREADERS][200];
	long agent_runs, agent_kills, agent_stops, aborts, markers;
	long agent_bad;			/* unexpected agent exit status */
	char agent_error[200];
};

static struct stats *st;
static double deadline;
static char agent[PATH_MAX], verifier[PATH_MAX];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static void worker(int w)
{
	char tag[16];
	long n = 0;

	snprintf(tag, sizeof(tag), "w%d", w);
	while (now() < deadline) {
		if (ima_gen_reads(GEN_DIR, tag, &n, 1) != 1)
			break;
		st->gen[w] = n;
	}
	_exit(0);
}

/* Per open file: the last file number seen of each worker. */
struct seqcheck {
	long last[MAX_WORKERS];
};

static void seq_reset(struct seqcheck *sc)
{
	int i;

	for (i = 0; i < MAX_WORKERS; i++)
		sc->last[i] = -1;
}

static void reader_error(int r, const char *fmt, ...)
{
	va_list ap;

	if (!st->errors[r]++) {
		va_start(ap, fmt);
		vsnprintf(st->first_error[r], sizeof(st->first_error[r]), fmt, ap);
		va_end(ap);
	}
}

/* One event name seen by reader @r: check its worker's order. */
static void seq_see(int r, struct seqcheck *sc, const char *name)
{
	int w;
	long n;

	st->recs[r]++;
	if (sscanf(name, GEN_DIR "/w%d-%ld", &w, &n) != 2 || w < 0 ||
	    w >= WORKERS)
		return;
	if (sc->last[w] >= 0 && n != sc->last[w] + 1)
		reader_error(r, "w%d: file %ld after %ld (%s)", w, n, sc->last[w],
			     n <= sc->last[w] ? "repeated" : "skipped");
	sc->last[w] = n;
}

/* Parse the complete records or lines at the start of @buf; keep the rest. */
static size_t consume(int r, int ascii, struct seqcheck *sc, uint8_t *buf,
		      size_t len)
{
	char name[256];
	size_t off = 0;

	if (ascii) {
		uint8_t *nl;

		while ((nl = memchr(buf + off, '\n', len - off))) {
			char line[1024], *f[6], *save = NULL;
			size_t l = nl - (buf + off);
			int nf = 0;

			if (l >= sizeof(line)) {
				reader_error(r, "ascii line of %zu bytes", l);
				l = sizeof(line) - 1;
			}
			memcpy(line, buf + off, l);
			line[l] = '\0';
			for (f[nf] = strtok_r(line, " ", &save); f[nf] && nf < 5;
			     f[++nf] = strtok_r(NULL, " ", &save))
				;
			if (nf < 5)
				reader_error(r, "ascii line with %d fields", nf);
			else
				seq_see(r, sc, f[4]);
			off = nl + 1 - buf;
		}
	} else {
		struct ima_rec rec;
		size_t o = 0;
		int rc;

		while ((rc = ima_next_rec(buf, len, &o, &rec)) == 1) {
			ima_rec_event_name(&rec, name, sizeof(name));
			seq_see(r, sc, name);
			off = o;
		}
		/* A record cut by the read size parses as malformed: wait. */
		if (rc < 0 && len - off > 8192)
			reader_error(r, "a malformed record at byte %zu", off);
	}
	memmove(buf, buf + off, len - off);
	return len - off;
}

/*
 * A reader that holds the file open: @r 0 reads the ascii list, 1 the
 * binary list, in small odd-sized pieces with short pauses, so that they
 * mostly keep up with the list; 4 reads the binary list so slowly that
 * snapshots leave it behind.
 */
static void holder(int r)
{
	const char *path = r ? IMA_BINARY_LIST : IMA_ASCII_LIST;
	int slow = r == 4;
	static uint8_t buf[1 << 16];
	struct seqcheck sc;
	size_t have = 0;
	unsigned int seed = getpid();
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	seq_reset(&sc);
	while (fd >= 0 && now() < deadline) {
		size_t want = slow ? 61 : 1 + rand_r(&seed) % 997;

		if (want > sizeof(buf) - have)
			want = sizeof(buf) - have;
		n = read(fd, buf + have, want);
		st->reads[r]++;
		if (n < 0 && errno == ESTALE) {
			st->estale[r]++;
			st->reopens[r]++;
			close(fd);
			fd = open(path, O_RDONLY);
			have = 0;
			seq_reset(&sc);
			continue;
		}
		if (n < 0) {
			reader_error(r, "read: %s", strerror(errno));
			break;
		}
		if (n == 0) {		/* at the end: wait for more */
			sleep_us(5000);
			continue;
		}
		st->bytes[r] += n;
		have = consume(r, !r, &sc, buf, have + n);
		if (slow)
			sleep_us(20000);
		else if (!(rand_r(&seed) % 16))
			sleep_us(rand_r(&seed) % 3000);
	}
	if (fd < 0)
		reader_error(r, "open %s: %s", path, strerror(errno));
	_exit(0);
}

/* Reopens binary_runtime_measurements and reads it whole, in a loop. */
static void reopener(int unused)
{
	const int r = 2;
	struct seqcheck sc;
	uint8_t *buf;
	size_t len;
	int fd, rc;

	while (now() < deadline) {
		fd = open(IMA_BINARY_LIST, O_RDONLY);
		if (fd < 0) {
			reader_error(r, "open: %s", strerror(errno));
			break;
		}
		st->reopens[r]++;
		rc = ima_read_fd(fd, &buf, &len);
		close(fd);
		st->reads[r]++;
		if (rc == -ESTALE) {
			st->estale[r]++;
			continue;
		}
		if (rc) {
			reader_error(r, "read: %s", strerror(-rc));
			break;
		}
		st->bytes[r] += len;
		seq_reset(&sc);
		if (consume(r, 0, &sc, buf, len))
			reader_error(r, "a whole read ends inside a record");
		free(buf);
	}
	_exit(0);
}

/* pread() and lseek() at random offsets of binary_runtime_measurements. */
static void seeker(int unused)
{
	const int r = 3;
	unsigned int seed = getpid();
	long long size = 1 << 16;
	uint8_t b[4096];
	ssize_t n;
	int fd = open(IMA_BINARY_LIST, O_RDONLY);

	while (fd >= 0 && now() < deadline) {
		off_t off = ((long long)rand_r(&seed) << 8) % (2 * size);
		size_t want = 1 + rand_r(&seed) % sizeof(b);

		if (rand_r(&seed) % 2) {
			n = pread(fd, b, want, off);
		} else {
			n = lseek(fd, off, SEEK_SET);
			if (n >= 0)
				n = read(fd, b, want);
		}
		st->reads[r]++;
		if (n < 0 && errno == ESTALE) {
			st->estale[r]++;
			st->reopens[r]++;
			close(fd);
			fd = open(IMA_BINARY_LIST, O_RDONLY);
			continue;
		}
		if (n < 0) {
			reader_error(r, "pread/lseek at %lld: %s",
				     (long long)off, strerror(errno));
			break;
		}
		st->bytes[r] += n;
		size = ima_read_ull(IMA_IN_MEMORY_BYTES);
		if (size < 4096)
			size = 4096;
	}
	_exit(0);
}

/* Run the agent; kill it after @kill_us (if >= 0); its exit status. */
static int run_agent(long kill_us, const char *stop_at)
{
	pid_t pid;
	int status;

	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 2);
		if (stop_at)
			setenv("IMA_AGENT_STOP_AT", stop_at, 1);
		execl(agent, agent, "--dir", STORE, NULL);
		_exit(127);
	}
	if (kill_us >= 0) {
		sleep_us(kill_us);
		kill(pid, SIGKILL);
	}
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		return -WTERMSIG(status);
	return WEXITSTATUS(status);
}

static void agent_bad(const char *what, int rc)
{
	if (!st->agent_bad++)
		snprintf(st->agent_error, sizeof(st->agent_error),
			 "%s: exit status %d", what, rc);
}

static void snapshotter(int unused)
{
	static const char * const steps[] = { "open", "copy", "rename", "finalize" };
	unsigned int seed = getpid();
	uint8_t b[4096];
	int rc, fd, k;

	while (now() < deadline) {
		k = rand_r(&seed) % 100;
		if (k < 45) {
			rc = run_agent(-1, NULL);
			st->agent_runs++;
			if (rc)
				agent_bad("agent", rc);
		} else if (k < 65) {
			rc = run_agent(rand_r(&seed) % 30000, NULL);
			st->agent_kills++;
			if (rc != -SIGKILL && rc != 0)
				agent_bad("agent killed at random", rc);
		} else if (k < 75) {
			rc = run_agent(-1, steps[rand_r(&seed) % 4]);
			st->agent_stops++;
			if (rc != -SIGKILL)
				agent_bad("agent stopped at a step", rc);
		} else if (k < 90) {
			fd = ima_snapshot_open(O_RDWR);
			if (fd >= 0) {
				int reads = rand_r(&seed) % 8;

				while (reads-- && read(fd, b, sizeof(b)) > 0)
					;
				close(fd);
				st->aborts++;
			} else {
				agent_bad("abandoned snapshot open", fd);
			}
		} else {
			fd = ima_snapshot_open(O_RDONLY);
			if (fd >= 0) {
				close(fd);
				st->markers++;
			} else {
				agent_bad("marker-only open", fd);
			}
		}
		sleep_us(rand_r(&seed) % 50000);
	}
	_exit(0);
}

/* Seed the store with what earlier tests trimmed and saved. */
static void store_init(long long trimmed)
{
	char cmd[PATH_MAX + 256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -m 0700 %s", STORE, STORE);
	if (system(cmd))
		ksft_exit_fail_msg("cannot create %s\n", STORE);
	if (!trimmed)
		return;
	snprintf(cmd, sizeof(cmd), "cp %s %s/" IMA_PIECE_FMT, ima_saved_path(),
		 STORE, 0ULL, (unsigned long long)trimmed);
	if (system(cmd))
		ksft_exit_fail_msg("%lld records were trimmed, but %s cannot be copied\n",
				   trimmed, ima_saved_path());
}

/* The store's pieces, stitched, become the saved pieces of later tests. */
static int store_to_saved(void)
{
	char cmd[2 * PATH_MAX];

	snprintf(cmd, sizeof(cmd),
		 "cat /dev/null $(ls -d %s/piece-* 2>/dev/null | sort) > %s.new && mv %s.new %s && sync",
		 STORE, ima_saved_path(), ima_saved_path(), ima_saved_path());
	return system(cmd);
}

/* Every worker's files in the whole log exactly once, in order. */
static int log_complete(char *why, size_t whylen)
{
	long next[MAX_WORKERS] = { 0 };
	char name[256], *pipe_cmd;
	struct ima_rec rec;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, off = 0;
	long n;
	FILE *f;
	int w, c;

	/* The stitched log: the pieces, then the live list. */
	if (asprintf(&pipe_cmd, "%s --dir %s --stitch", agent, STORE) < 0)
		return 0;
	f = popen(pipe_cmd, "r");
	free(pipe_cmd);
	if (!f)
		return 0;
	while ((c = fgetc(f)) != EOF) {
		if (len == cap)
			buf = realloc(buf, cap = cap ? 2 * cap : 1 << 20);
		buf[len++] = c;
	}
	if (pclose(f)) {
		snprintf(why, whylen, "ima_snapshot_agent --stitch failed");
		free(buf);
		return 0;
	}
	while (ima_next_rec(buf, len, &off, &rec) == 1) {
		ima_rec_event_name(&rec, name, sizeof(name));
		if (sscanf(name, GEN_DIR "/w%d-%ld", &w, &n) != 2 ||
		    w < 0 || w >= WORKERS)
			continue;
		if (n != next[w]) {
			snprintf(why, whylen, "w%d: file %ld where %ld was due",
				 w, n, next[w]);
			free(buf);
			return 0;
		}
		next[w]++;
	}
	free(buf);
	for (w = 0; w < WORKERS; w++) {
		if (next[w] != st->gen[w]) {
			snprintf(why, whylen, "w%d: %ld files in the log, %ld read",
				 w, next[w], st->gen[w]);
			return 0;
		}
	}
	snprintf(why, whylen, "%ld + %ld files, each once, in order",
		 next[0], next[1]);
	return 1;
}

/* Run @fn(@arg) in a child process, which exits when it returns. */
static pid_t spawn(void (*fn)(int), int arg)
{
	pid_t pid = fork();

	if (pid < 0)
		ksft_exit_fail_perror("fork");
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	return pid;
}

static void self_dir(char *out, size_t len, const char *prog)
{
	char exe[PATH_MAX - 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n < 0)
		ksft_exit_fail_perror("readlink /proc/self/exe");
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	*slash = '\0';
	snprintf(out, len, "%s/%s", exe, prog);
}

int main(void)
{
	static const char * const names[] = { "ascii holder", "binary holder",
					      "reopener", "seeker",
					      "slow binary holder" };
	struct ima_counters c0, c1;
	char why[256], cmd[2 * PATH_MAX];
	const char *p;
	int secs = 20, i, status, verify, complete, ok = 1;
	pid_t pids[16];
	int np = 0;
	double t0;

	ksft_print_header();
	imatest_require_snapshots();
	self_dir(agent, sizeof(agent), "ima_snapshot_agent");
	self_dir(verifier, sizeof(verifier), "ima_verify");
	if (access(agent, X_OK) || access(verifier, X_OK))
		ksft_exit_fail_msg("%s or %s missing\n", agent, verifier);
	p = imatest_param("stress_seconds");
	if (p && atoi(p) > 0)
		secs = atoi(p);
	if (mkdir(GEN_DIR, 0700) && errno != EEXIST)
		ksft_exit_fail_perror("mkdir " GEN_DIR);
	st = mmap(NULL, sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (st == MAP_FAILED)
		ksft_exit_fail_perror("mmap");

	ksft_set_plan(7);
	ima_counters_read(&c0);
	store_init(c0.trimmed);

	t0 = now();
	deadline = t0 + secs;
	for (i = 0; i < WORKERS; i++)
		pids[np++] = spawn(worker, i);
	pids[np++] = spawn(holder, 0);
	pids[np++] = spawn(holder, 1);
	pids[np++] = spawn(holder, 4);
	pids[np++] = spawn(reopener, 0);
	pids[np++] = spawn(seeker, 0);
	pids[np++] = spawn(snapshotter, 0);
	for (i = 0; i < np; i++) {
		waitpid(pids[i], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			ksft_print_msg("process %d of the run died (status %#x)\n",
				       i, status);
			ok = 0;
		}
	}

	/* One last snapshot, which also recovers from the last kill. */
	status = run_agent(-1, NULL);
	ima_counters_read(&c1);
	ksft_print_msg("%d s: %ld + %ld files; %lld snapshots finalized, %lld markers\n",
		       secs, st->gen[0], st->gen[1], c1.snapshots - c0.snapshots,
		       c1.attempts - c0.attempts);
	ksft_print_msg("agent: %ld runs, %ld killed, %ld stopped at a step\n",
		       st->agent_runs, st->agent_kills, st->agent_stops);
	ksft_print_msg("%ld abandoned snapshot opens, %ld read-only opens\n",
		       st->aborts, st->markers);
	for (i = 0; i < NREADERS; i++)
		ksft_print_msg("%s: %ld reads, %ld bytes, %ld records, %ld ESTALE, %ld reopens\n",
			       names[i], st->reads[i], st->bytes[i],
			       st->recs[i], st->estale[i], st->reopens[i]);

	ksft_test_result(ok && !status && !st->agent_bad &&
			 c1.snapshots - c0.snapshots > 0,
			 "stress_snapshots: %lld finalized under load; agent %s\n",
			 c1.snapshots - c0.snapshots,
			 st->agent_bad ? st->agent_error : "ok");
	for (i = 0; i < 2; i++)
		ksft_test_result(!st->errors[i] && st->recs[i] > 0,
				 "stress_%s_never_skips_or_repeats: %ld records read, %ld ESTALE%s%s\n",
				 i ? "binary_holder" : "ascii_holder",
				 st->recs[i], st->estale[i],
				 st->errors[i] ? "; " : "", st->first_error[i]);
	ksft_test_result(!st->errors[4] && st->estale[4] > 0,
			 "stress_slow_holder_gets_estale_never_a_gap: %ld records read, %ld ESTALE%s%s\n",
			 st->recs[4], st->estale[4],
			 st->errors[4] ? "; " : "", st->first_error[4]);
	ksft_test_result(!st->errors[2] && !st->errors[3] && st->reads[2] > 0 &&
			 st->reads[3] > 0,
			 "stress_reopen_and_pread_readers: %ld whole reads, %ld preads; %s%s\n",
			 st->reads[2], st->reads[3], st->first_error[2],
			 st->first_error[3]);

	snprintf(cmd, sizeof(cmd), "%s --dir %s --quiet", verifier, STORE);
	verify = system(cmd);
	complete = log_complete(why, sizeof(why));
	ksft_test_result(verify == 0 && ima_counters_add_up(&c1) && complete,
			 "stress_log_verifies_and_is_complete: ima_verify %d, count %lld = %lld + %lld; %s\n",
			 verify, c1.count, c1.in_memory, c1.trimmed, why);

	ksft_test_result(!store_to_saved() && ima_replay_matches(why, sizeof(why)),
			 "stress_saved_plus_live_replays_to_pcr10: %s\n", why);
	munmap(st, sizeof(*st));
	ksft_finished();
}
