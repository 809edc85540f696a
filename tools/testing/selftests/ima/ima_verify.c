// SPDX-License-Identifier: GPL-2.0
/*
 * ima_verify: verify the IMA measurement log of a machine that moves the
 * head of its log out of the kernel with snapshots (CONFIG_IMA_LOG_SNAPSHOT,
 * Documentation/security/IMA-snapshot.rst, ima_snapshot_agent).
 *
 * usage: ima_verify [--dir DIR] [--live FILE] [--pcrs FILE | --quote]
 *                   [--state FILE] [--save-state FILE] [--quiet]
 *
 * Full mode (the default) replays, from all-zero PCRs in every bank, the
 * pieces DIR/piece-<START>-<END>.bin (default DIR /var/lib/ima/snapshots)
 * in order, then the live list (default
 * <securityfs>/ima/binary_runtime_measurements, $IMA_SECURITYFS overrides
 * <securityfs>/ima), and checks:
 *  - every record parses and its sha1 template digest matches its data
 *    (violations excepted);
 *  - the pieces are contiguous: the first starts at record 0, each starts
 *    where the one before ends, and each holds END - START records;
 *  - at each snapshot_aggregate record (the marker): its PCR values equal
 *    the replay up to it, its Measurement_Count is its index since cold
 *    boot, and its Segment_Count and Segment_Digest match the records since
 *    the previous marker (or cold boot);
 *  - each piece but the first, and the live list when there are pieces,
 *    starts with the marker of the record it starts at;
 *  - the final replay equals PCR 10 of the machine in every bank.
 *
 * The PCR values come from /sys/class/tpm/tpm0/pcr-<alg>/10 for every bank
 * there (the default), from --pcrs FILE ("<alg>:PCR10:<hex>" lines, one
 * per bank: the banks replayed are those of the file), or with --quote
 * from a TPM2_Quote of PCR 10 in the sha1 and sha256 banks by a primary
 * ECDSA P-256 key created for it, with a random nonce, verified here with
 * OpenSSL.  The TPM is /dev/tpmrm0, or the TCTI named by $IMA_VERIFY_TCTI
 * (e.g. "swtpm:host=127.0.0.1,port=2321", or "device:/dev/tpm0").
 *
 * Fast mode (--state FILE) starts from the PCR values an earlier run
 * trusted at a marker M (--save-state FILE writes them, for the marker at
 * the head of the live list, after a successful run in either mode) and
 * replays only what came after M: the pieces with START >= M's
 * Measurement_Count, then the live list, with all the checks above from
 * M on (M's own Segment_Digest excepted: its segment is before it).  The
 * first of them, a piece or else the live list, must start with M, with
 * the state's Measurement_Count and PCR values; if none does (the state
 * is older than the pieces kept, or the store changed), it fails: run a
 * full verification.  The pieces that end at or before M are listed but
 * not opened, so the cost depends on what was measured since M, not on
 * the history before it; a misnamed piece or one across M is a failure,
 * not read.  A fast run with --save-state saves the state for the next
 * one, so a chain of fast runs follows the agent's snapshots.
 *
 * Output: a line per piece (in fast mode, one for all the pieces before
 * the state's record), the live list, and a line per bank, then
 * "verdict: ok" or "verdict: FAIL: <the first problem>"; --quiet prints
 * only the verdict.  Exit status: 0 ok, 1 mismatch or corruption, 2 usage
 * or I/O error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tcti_device.h>
#ifndef IMA_VERIFY_NO_TCTILDR
#include <tss2/tss2_tctildr.h>
#endif

#include "imalog.h"

#define DEFAULT_DIR	"/var/lib/ima/snapshots"
#define IMA_PCR		10		/* CONFIG_IMA_MEASURE_PCR_IDX */
#define LIVE_TRIES	5
#define MAX_ALSO	8

enum { EX_OK, EX_FAIL, EX_ERR };

static int quiet;
static int status;
static char verdict[1024];

static void out(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static void note(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	fprintf(stderr, "ima_verify: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* The first problem reported is the verdict. */
static void vproblem(int code, const char *fmt, va_list ap)
{
	if (code > status)
		status = code;
	if (!verdict[0])
		vsnprintf(verdict, sizeof(verdict), fmt, ap);
}

static void problem(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(code, fmt, ap);
	va_end(ap);
}

static int finish(void)
{
	if (status == EX_OK)
		printf("verdict: ok\n");
	else
		printf("verdict: FAIL: %s\n", verdict);
	fflush(stdout);
	return status;
}

/* An I/O or usage error: nothing more can be checked. */
static void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(EX_ERR, fmt, ap);
	va_end(ap);
	status = EX_ERR;
	exit(finish());
}

/* --- what is checked, one piece (or the live list) at a time ------------ */

struct unit {
	char name[300];			/* "piece NAME", "live list" */
	char msg[MAX_ALSO + 1][512];	/* its first problems */
	int problems;
	int code;
};

static void unit_init(struct unit *u, const char *fmt, const char *name)
{
	memset(u, 0, sizeof(*u));
	snprintf(u->name, sizeof(u->name), fmt, name);
}

static void unit_fail(struct unit *u, int code, const char *fmt, ...)
{
	va_list ap;

	if (u->problems <= MAX_ALSO) {
		va_start(ap, fmt);
		vsnprintf(u->msg[u->problems], sizeof(u->msg[0]), fmt, ap);
		va_end(ap);
	}
	u->problems++;
	if (code > u->code)
		u->code = code;
}

/* Print the unit's line; its first problem may become the verdict. */
static void unit_commit(struct unit *u, const char *ok)
{
	int i;

	if (!u->problems) {
		out("%s: %s, ok\n", u->name, ok);
		return;
	}
	out("%s: FAIL: %s\n", u->name, u->msg[0]);
	for (i = 1; i < u->problems && i <= MAX_ALSO; i++)
		out("    also: %s\n", u->msg[i]);
	if (u->problems > MAX_ALSO + 1)
		out("    and %d more problems\n", u->problems - MAX_ALSO - 1);
	problem(u->code, "%s: %s", u->name, u->msg[0]);
}

/* --- the replay -------------------------------------------------------- */

/* A running Segment_Digest in one algorithm. */
struct seg {
	const EVP_MD *md;
	EVP_MD_CTX *ctx;
	int bank;		/* digests from this bank's replay, or -1 */
};

struct vstate {
	struct ima_banks bs;
	unsigned long long index;	/* records since cold boot */
	unsigned long long seg_records;	/* since the previous marker */
	bool seg_known;			/* it starts at a marker or boot */
	bool fast;			/* started from --state */
	unsigned long long from;	/* the state's record (fast mode) */
	int nseg;
	struct seg seg[IMA_MAX_BANKS + 1];
	/* The marker at the head of the live list, and the replay before it. */
	bool have_head;
	unsigned long long head_index;
	struct ima_banks head;
};

enum where { INSIDE, PIECE_START, LIVE_START };

static void seg_init(struct vstate *vs, const EVP_MD *extra)
{
	int i;

	vs->nseg = 0;
	for (i = 0; i < vs->bs.n; i++) {
		vs->seg[vs->nseg].md = vs->bs.b[i].md;
		vs->seg[vs->nseg].bank = i;
		vs->nseg++;
	}
	/*
	 * The IMA hash algorithm need not be a bank: then hash the records
	 * once more in the algorithm of the latest marker (sha256 at first).
	 */
	for (i = 0; extra && i < vs->nseg; i++)
		if (EVP_MD_type(vs->seg[i].md) == EVP_MD_type(extra))
			extra = NULL;
	if (extra) {
		vs->seg[vs->nseg].md = extra;
		vs->seg[vs->nseg].bank = -1;
		vs->nseg++;
	}
	for (i = 0; i < vs->nseg; i++) {
		vs->seg[i].ctx = EVP_MD_CTX_new();
		if (!vs->seg[i].ctx ||
		    !EVP_DigestInit_ex(vs->seg[i].ctx, vs->seg[i].md, NULL))
			fatal("out of memory");
	}
	vs->seg_records = 0;
}

static void seg_free(struct vstate *vs)
{
	int i;

	for (i = 0; i < vs->nseg; i++)
		EVP_MD_CTX_free(vs->seg[i].ctx);
	vs->nseg = 0;
}

static void vstate_init(struct vstate *vs, const struct ima_banks *bs)
{
	memset(vs, 0, sizeof(*vs));
	vs->bs = *bs;
	ima_banks_reset(&vs->bs);
	vs->seg_known = true;
	seg_init(vs, EVP_sha256());
}

static void vstate_copy(struct vstate *dst, const struct vstate *src)
{
	int i;

	*dst = *src;
	for (i = 0; i < src->nseg; i++) {
		dst->seg[i].ctx = EVP_MD_CTX_new();
		if (!dst->seg[i].ctx ||
		    !EVP_MD_CTX_copy_ex(dst->seg[i].ctx, src->seg[i].ctx))
			fatal("out of memory");
	}
}

static void seg_update(struct vstate *vs, const struct ima_rec *r,
		       uint8_t td[][IMA_MAX_DIGEST])
{
	uint8_t d[IMA_MAX_DIGEST];
	int i;

	for (i = 0; i < vs->nseg; i++) {
		struct seg *s = &vs->seg[i];

		if (s->bank >= 0) {
			EVP_DigestUpdate(s->ctx, td[s->bank],
					 vs->bs.b[s->bank].len);
			continue;
		}
		memset(d, 0, sizeof(d));
		if (!ima_rec_is_violation(r))
			ima_rec_hash(r, s->md, d);
		EVP_DigestUpdate(s->ctx, d, EVP_MD_size(s->md));
	}
	vs->seg_records++;
}

static void check_segment(struct vstate *vs, struct unit *u,
			  const struct ima_marker *mk, unsigned long long idx)
{
	const EVP_MD *md = EVP_get_digestbyname(mk->seg_alg);
	uint8_t d[IMA_MAX_DIGEST];
	EVP_MD_CTX *c;
	unsigned int len;
	int i;

	if (!vs->seg_known)
		return;
	if ((unsigned long long)mk->seg_records != vs->seg_records)
		unit_fail(u, EX_FAIL,
			  "record %llu: the snapshot_aggregate record says Segment_Count=%lld, but %llu records follow the previous one (or boot)",
			  idx, mk->seg_records, vs->seg_records);
	for (i = 0; md && i < vs->nseg; i++)
		if (EVP_MD_type(vs->seg[i].md) == EVP_MD_type(md))
			break;
	if (!md || i == vs->nseg) {
		note("record %llu: Segment_Digest in %s not checked: not a replayed bank",
		     idx, mk->seg_alg);
		return;
	}
	c = EVP_MD_CTX_new();
	if (!c || !EVP_MD_CTX_copy_ex(c, vs->seg[i].ctx) ||
	    !EVP_DigestFinal_ex(c, d, &len))
		fatal("out of memory");
	EVP_MD_CTX_free(c);
	if (len != mk->seg_len || memcmp(d, mk->seg_digest, len))
		unit_fail(u, EX_FAIL,
			  "record %llu: the Segment_Digest of the snapshot_aggregate record does not match the %llu records before it",
			  idx, vs->seg_records);
}

/* The marker's PCR values: the state's at its record, else the replay's. */
static void check_pcrs(struct vstate *vs, struct unit *u,
		       const struct ima_marker *mk, unsigned long long idx)
{
	char hm[2 * IMA_MAX_DIGEST + 1], hr[2 * IMA_MAX_DIGEST + 1];
	const char *whose = vs->fast && idx == vs->from ? "the state" :
			    "the replay up to it";
	int i, p;

	for (i = 0; i < vs->bs.n; i++) {
		struct ima_bank *b = &vs->bs.b[i];
		uint32_t mask = b->used | 1u << IMA_PCR;

		for (p = 0; p < IMA_PCRS; p++) {
			const struct ima_marker_pcr *mp;

			if (!(mask & (1u << p)))
				continue;
			mp = ima_marker_pcr_find(mk, b->name, p);
			if (!mp) {
				unit_fail(u, EX_FAIL,
					  "record %llu: the snapshot_aggregate record holds no %s:PCR%d value",
					  idx, b->name, p);
				continue;
			}
			if (mp->len == b->len &&
			    !memcmp(mp->value, b->pcr[p], b->len))
				continue;
			ima_hex(mp->value, mp->len, hm);
			ima_hex(b->pcr[p], b->len, hr);
			unit_fail(u, EX_FAIL,
				  "record %llu: the snapshot_aggregate record holds %s:PCR%d %s, %s gives %s",
				  idx, b->name, p, hm, whose, hr);
		}
	}
}

static void check_marker(struct vstate *vs, struct unit *u,
			 const struct ima_rec *r, unsigned long long idx,
			 enum where where, unsigned long long pieces_end)
{
	const EVP_MD *md;
	struct ima_marker mk;

	if (ima_rec_marker(r, &mk)) {
		unit_fail(u, EX_FAIL,
			  "record %llu: malformed snapshot_aggregate record", idx);
		vs->seg_known = false;
		seg_free(vs);
		seg_init(vs, EVP_sha256());
		return;
	}
	if ((unsigned long long)mk.records != idx) {
		if (where == PIECE_START)
			unit_fail(u, EX_FAIL,
				  "record %llu: the piece starts with the snapshot_aggregate record of record %lld (pieces swapped, misnamed or missing?)",
				  idx, mk.records);
		else if (where == LIVE_START && vs->fast && idx == vs->from)
			unit_fail(u, EX_FAIL,
				  "the live list starts with the snapshot_aggregate record of record %lld, the state is for record %llu (a snapshot since? run a full verification)",
				  mk.records, idx);
		else if (where == LIVE_START && !idx)
			unit_fail(u, EX_FAIL,
				  "record 0: the live list starts with the snapshot_aggregate record of record %lld, but there are no pieces (records 0 to %lld are missing)",
				  mk.records, mk.records - 1);
		else if (where == LIVE_START && idx == pieces_end)
			unit_fail(u, EX_FAIL,
				  "record %llu: the live list starts with the snapshot_aggregate record of record %lld, but the pieces end at record %llu",
				  idx, mk.records, pieces_end);
		else if (where == LIVE_START)
			unit_fail(u, EX_FAIL,
				  "record %llu: the live list starts with the snapshot_aggregate record of record %lld, but the pieces hold %llu records (their names end at record %llu)",
				  idx, mk.records, idx, pieces_end);
		else
			unit_fail(u, EX_FAIL,
				  "record %llu: the snapshot_aggregate record says Measurement_Count=%lld",
				  idx, mk.records);
	}
	check_segment(vs, u, &mk, idx);
	check_pcrs(vs, u, &mk, idx);
	if (where == LIVE_START) {
		vs->have_head = true;
		vs->head_index = idx;
		vs->head = vs->bs;
	}
	/* The next segment starts after this marker. */
	md = EVP_get_digestbyname(mk.seg_alg);
	seg_free(vs);
	seg_init(vs, md ? md : EVP_sha256());
	vs->seg_known = true;
}

/*
 * Check and replay the records of @buf (a piece or the live list).
 * @where: what its first record must be.  Returns the number of records.
 */
static long replay_buf(struct vstate *vs, struct unit *u, const uint8_t *buf,
		       size_t len, enum where where,
		       unsigned long long pieces_end)
{
	uint8_t td[IMA_MAX_BANKS][IMA_MAX_DIGEST];
	struct ima_rec r;
	size_t off = 0;
	long n = 0;
	int rc;

	while ((rc = ima_next_rec(buf, len, &off, &r)) == 1) {
		unsigned long long idx = vs->index;
		enum where w = n ? INSIDE : where;
		int marker = ima_rec_is_marker(&r);

		if (ima_rec_check_digest(&r))
			unit_fail(u, EX_FAIL,
				  "record %llu: its sha1 template digest does not match its template data",
				  idx);
		if (marker)
			check_marker(vs, u, &r, idx, w, pieces_end);
		else if (w == PIECE_START)
			unit_fail(u, EX_FAIL,
				  "record %llu: the piece does not start with a snapshot_aggregate record",
				  idx);
		else if (w == LIVE_START && vs->fast && idx == vs->from)
			unit_fail(u, EX_FAIL,
				  "record %llu: the live list does not start with a snapshot_aggregate record (the state is for one)",
				  idx);
		else if (w == LIVE_START && idx)
			unit_fail(u, EX_FAIL,
				  "record %llu: the live list does not start with the snapshot_aggregate record that ends the pieces",
				  idx);
		ima_banks_extend_digests(&vs->bs, &r, td);
		if (!marker)
			seg_update(vs, &r, td);
		vs->index++;
		n++;
	}
	if (rc < 0)
		unit_fail(u, EX_FAIL,
			  "record %llu: malformed record at byte %zu", vs->index,
			  off);
	else if (!n && where == LIVE_START && (vs->index || vs->fast))
		unit_fail(u, EX_FAIL,
			  "empty: the snapshot_aggregate record of record %llu is missing",
			  vs->index);
	return n;
}

/* --- the pieces -------------------------------------------------------- */

static const char *dir = DEFAULT_DIR;

static int piece_path(char *out, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	return n < 0 || n >= PATH_MAX ? -1 : 0;
}

/* The record index the live list starts at, by its first record. */
static unsigned long long live_head(const uint8_t *live, size_t len)
{
	struct ima_marker mk;
	struct ima_rec r;
	size_t off = 0;

	if (ima_next_rec(live, len, &off, &r) == 1 && !ima_rec_marker(&r, &mk))
		return mk.records;
	return 0;
}

/*
 * A piece an interrupted agent saved but did not finalize: its records
 * are still at the head of the live list (ima_snapshot_agent --stitch
 * skips it too, its next run removes it).
 */
static bool piece_unfinalized(const struct ima_piece *p,
			      unsigned long long next,
			      const uint8_t *live, size_t llen)
{
	char path[PATH_MAX];
	uint8_t *buf;
	size_t len;
	bool same;

	if (!p->named || p->start != next || p->end <= next ||
	    live_head(live, llen) != next || piece_path(path, p->name) ||
	    ima_read_file(path, &buf, &len))
		return false;
	same = len && len <= llen && !memcmp(buf, live, len);
	free(buf);
	return same;
}

/*
 * Fast mode opens no piece that ends at or before the state's record
 * (only their names are listed), nor one whose records are unknown
 * (misnamed) or straddle it.  Returns true if @p is one, after saying
 * why if it is a problem.
 */
static bool piece_not_read(const struct vstate *vs, const struct ima_piece *p)
{
	struct unit u;

	if (!vs->fast || (p->named && p->start >= vs->from))
		return false;
	if (p->named && p->end <= vs->from)
		return true;
	unit_init(&u, "piece %s", p->name);
	if (!p->named)
		unit_fail(&u, EX_FAIL,
			  "not a piece-<START>-<END>.bin name (IMA_PIECE_FMT), not read: its records may be before the state's");
	else
		unit_fail(&u, EX_FAIL,
			  "overlap: holds records %llu to %llu, across record %llu of the state (not read)",
			  p->start, p->end - 1, vs->from);
	unit_commit(&u, "");
	return true;
}

/*
 * Check and replay the pieces: every one in full mode; in fast mode those
 * from the state's record on, the first of which must start there unless
 * the live list does.  Returns the END of the last one.
 */
static unsigned long long replay_pieces(struct vstate *vs,
					const uint8_t *live, size_t llen,
					bool dir_given)
{
	unsigned long long next = vs->from;
	struct ima_piece *p = NULL;
	char path[PATH_MAX], ok[64];
	struct unit u;
	uint8_t *buf;
	size_t len;
	long count, n;
	int i, np, before = 0;

	np = ima_pieces_list(dir, &p);
	if (np < 0 && errno == ENOENT && !dir_given) {
		note("%s does not exist: no pieces", dir);
		np = 0;
	}
	if (np < 0)
		fatal("cannot list %s: %s", dir, strerror(errno));
	if (np && (!vs->fast || p[np - 1].start >= vs->from) &&
	    piece_unfinalized(&p[np - 1], p[np - 1].start, live, llen)) {
		bool before_ok = np == 1 || p[np - 2].end == p[np - 1].start;

		if (before_ok) {
			out("piece %s: skipped: not finalized, %s\n",
			    p[np - 1].name,
			    "its records are still in the live list");
			np--;
		}
	}
	if (vs->fast) {
		for (i = 0; i < np; i++)
			if (p[i].named && p[i].start == vs->from)
				break;
		if (i == np && live_head(live, llen) != vs->from) {
			problem(EX_FAIL,
				"no piece or live list starts at record %llu of the state: run a full verification",
				vs->from);
			free(p);
			exit(finish());
		}
		for (i = 0; i < np; i++)
			if (p[i].named && p[i].end <= vs->from)
				before++;
		if (before)
			out("%d piece%s before record %llu: not read, the state vouches for them\n",
			    before, before == 1 ? "" : "s", vs->from);
	}
	for (i = 0; i < np; i++) {
		if (piece_not_read(vs, &p[i]))
			continue;
		unit_init(&u, "piece %s", p[i].name);
		if (!p[i].named) {
			unit_fail(&u, EX_FAIL,
				  "not a piece-<START>-<END>.bin name (IMA_PIECE_FMT)");
		} else if (p[i].start > next) {
			unit_fail(&u, EX_FAIL,
				  "gap: records %llu to %llu are in no piece",
				  next, p[i].start - 1);
		} else if (p[i].start < next) {
			unit_fail(&u, EX_FAIL,
				  "overlap: starts at record %llu, the pieces before it end at record %llu (duplicate records %llu to %llu)",
				  p[i].start, next, p[i].start,
				  (p[i].end < next ? p[i].end : next) - 1);
		}
		if (piece_path(path, p[i].name) ||
		    ima_read_file(path, &buf, &len)) {
			unit_fail(&u, EX_ERR, "cannot read %s: %s", path,
				  strerror(errno));
			unit_commit(&u, "");
			continue;
		}
		count = ima_count_recs(buf, len);
		if (p[i].named && count >= 0 &&
		    (unsigned long long)count != p[i].end - p[i].start)
			unit_fail(&u, EX_FAIL,
				  "holds %ld records, its name says %llu (records %llu to %llu)",
				  count, p[i].end - p[i].start, p[i].start,
				  p[i].end - 1);
		n = replay_buf(vs, &u, buf, len,
			       vs->index ? PIECE_START : INSIDE, 0);
		free(buf);
		if (p[i].named)
			next = p[i].end;
		snprintf(ok, sizeof(ok), "%ld records", n);
		unit_commit(&u, ok);
	}
	free(p);
	return next;
}

/* --- PCR values: a file, the kernel's sysfs, or a quote ---------------- */

struct target {
	uint8_t v[IMA_MAX_BANKS][IMA_MAX_DIGEST];	/* PCR 10 per bank */
};

/* Strip the newline and trailing blanks; skip empty lines and comments. */
static char *clean_line(char *line)
{
	size_t l = strlen(line);

	while (l && (line[l - 1] == '\n' || line[l - 1] == '\r' ||
		     line[l - 1] == ' ' || line[l - 1] == '\t'))
		line[--l] = '\0';
	while (*line == ' ' || *line == '\t')
		line++;
	return *line && *line != '#' ? line : NULL;
}

/* --pcrs FILE: the banks are the ones it names. */
static void read_pcrs_file(const char *path, struct ima_banks *bs,
			   struct target *t)
{
	struct ima_marker_pcr mp;
	char line[512], *l;
	int lineno = 0;
	FILE *f = fopen(path, "r");

	memset(bs, 0, sizeof(*bs));
	if (!f)
		fatal("cannot read %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		l = clean_line(line);
		if (!l)
			continue;
		if (ima_pcr_item_parse(l, &mp))
			fatal("%s:%d: not <alg>:PCR10:<hex>", path, lineno);
		if (mp.pcr != IMA_PCR)
			continue;
		if (ima_bank_find(bs, mp.alg))
			fatal("%s:%d: bank %s twice", path, lineno, mp.alg);
		if (ima_bank_add(bs, mp.alg))
			fatal("%s:%d: unknown hash algorithm %s", path, lineno,
			      mp.alg);
		if (bs->b[bs->n - 1].len != mp.len)
			fatal("%s:%d: a %s value has %u bytes, not %u", path,
			      lineno, mp.alg, bs->b[bs->n - 1].len, mp.len);
		memcpy(t->v[bs->n - 1], mp.value, mp.len);
	}
	fclose(f);
	if (!bs->n)
		fatal("%s: no <alg>:PCR10:<hex> line", path);
}

static int read_sysfs_pcrs(const struct ima_banks *bs, struct target *t)
{
	int i;

	for (i = 0; i < bs->n; i++)
		if (ima_sysfs_pcr(bs->b[i].name, IMA_PCR, t->v[i],
				  bs->b[i].len))
			fatal("cannot read %s/pcr-%s/%d", TPM_SYSFS,
			      bs->b[i].name, IMA_PCR);
	return 0;
}

/* --- --quote: TPM2_Quote through ESAPI, verified with OpenSSL ---------- */

static const struct {
	const char *name;
	TPM2_ALG_ID alg;
} quote_banks[] = {
	{ "sha1", TPM2_ALG_SHA1 },
	{ "sha256", TPM2_ALG_SHA256 },
};

struct tpm {
	TSS2_TCTI_CONTEXT *tcti;
	bool ldr;
	ESYS_CONTEXT *ctx;
	ESYS_TR key;
	const char *hierarchy;
	TPM2_HANDLE hierarchy_handle;
	TPM2B_PUBLIC *pub;
	EVP_PKEY *pkey;
	/* The latest verified quote. */
	TPML_PCR_SELECTION sel;
	TPM2B_DIGEST pcr_digest;
};

static const char *bank_of_alg(TPM2_ALG_ID alg)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(quote_banks); i++)
		if (quote_banks[i].alg == alg)
			return quote_banks[i].name;
	return NULL;
}

static TPM2_ALG_ID alg_of_bank(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(quote_banks); i++)
		if (!strcmp(quote_banks[i].name, name))
			return quote_banks[i].alg;
	return TPM2_ALG_ERROR;
}

static void tpm_open(struct tpm *tpm)
{
	const char *conf = getenv("IMA_VERIFY_TCTI");
	const char *dev = "/dev/tpmrm0";
	size_t size = 0;
	TSS2_RC rc;

	memset(tpm, 0, sizeof(*tpm));
	tpm->key = ESYS_TR_NONE;
	if (conf && *conf && strncmp(conf, "device:", 7)) {
#ifndef IMA_VERIFY_NO_TCTILDR
		rc = Tss2_TctiLdr_Initialize(conf, &tpm->tcti);
		if (rc)
			fatal("TCTI %s: Tss2_TctiLdr_Initialize: 0x%x", conf,
			      rc);
		tpm->ldr = true;
#else
		fatal("IMA_VERIFY_TCTI=%s: built without libtss2-tctildr, only device:PATH works",
		      conf);
#endif
	} else {
		if (conf && *conf && conf[7])
			dev = conf + 7;
		rc = Tss2_Tcti_Device_Init(NULL, &size, NULL);
		tpm->tcti = calloc(1, size);
		if (rc || !tpm->tcti)
			fatal("Tss2_Tcti_Device_Init: 0x%x", rc);
		rc = Tss2_Tcti_Device_Init(tpm->tcti, &size, dev);
		if (rc)
			fatal("cannot open the TPM %s: 0x%x", dev, rc);
	}
	rc = Esys_Initialize(&tpm->ctx, tpm->tcti, NULL);
	if (rc)
		fatal("Esys_Initialize: 0x%x", rc);
}

static struct tpm *open_tpm;

static void tpm_close(struct tpm *tpm)
{
	open_tpm = NULL;
	if (tpm->key != ESYS_TR_NONE)
		Esys_FlushContext(tpm->ctx, tpm->key);
	Esys_Free(tpm->pub);
	EVP_PKEY_free(tpm->pkey);
	Esys_Finalize(&tpm->ctx);
#ifndef IMA_VERIFY_NO_TCTILDR
	if (tpm->ldr) {
		Tss2_TctiLdr_Finalize(&tpm->tcti);
		return;
	}
#endif
	Tss2_Tcti_Finalize(tpm->tcti);
	free(tpm->tcti);
}

/*
 * Without a resource manager (swtpm over TCP) a transient key stays
 * loaded until flushed: flush it on every way out.
 */
static void tpm_atexit(void)
{
	if (open_tpm)
		tpm_close(open_tpm);
}

/* The banks of quote_banks[] the TPM has PCR 10 allocated in. */
static void tpm_banks(struct tpm *tpm, struct ima_banks *bs)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	TPMI_YES_NO more;
	const char *name;
	TSS2_RC rc;
	UINT32 i;

	memset(bs, 0, sizeof(*bs));
	rc = Esys_GetCapability(tpm->ctx, ESYS_TR_NONE, ESYS_TR_NONE,
				ESYS_TR_NONE, TPM2_CAP_PCRS, 0, 1, &more, &cap);
	if (rc)
		fatal("TPM2_GetCapability(PCRS): 0x%x", rc);
	for (i = 0; i < cap->data.assignedPCR.count; i++) {
		TPMS_PCR_SELECTION *s = &cap->data.assignedPCR.pcrSelections[i];

		name = bank_of_alg(s->hash);
		if (name && s->sizeofSelect > IMA_PCR / 8 &&
		    (s->pcrSelect[IMA_PCR / 8] & (1 << (IMA_PCR % 8))))
			ima_bank_add(bs, name);
	}
	Esys_Free(cap);
	if (!bs->n)
		fatal("the TPM has PCR %d in neither the sha1 nor the sha256 bank",
		      IMA_PCR);
}

/* The key's public point as an OpenSSL key. */
static EVP_PKEY *ecc_pkey(const TPMS_ECC_POINT *q)
{
	uint8_t pt[1 + 2 * 32] = { 4 };
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;

	if (q->x.size > 32 || q->y.size > 32 || !bld)
		goto out;
	memcpy(pt + 1 + 32 - q->x.size, q->x.buffer, q->x.size);
	memcpy(pt + 1 + 64 - q->y.size, q->y.buffer, q->y.size);
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
					     "prime256v1", 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
					      pt, sizeof(pt)))
		goto out;
	params = OSSL_PARAM_BLD_to_param(bld);
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!params || !pctx || EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
out:
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return pkey;
}

/* A primary restricted ECDSA P-256/SHA-256 signing key. */
static void tpm_create_key(struct tpm *tpm)
{
	static const struct {
		ESYS_TR handle;
		TPM2_HANDLE tpm_handle;
		const char *name;
	} hier[] = {
		{ ESYS_TR_RH_OWNER, TPM2_RH_OWNER, "owner" },
		{ ESYS_TR_RH_ENDORSEMENT, TPM2_RH_ENDORSEMENT, "endorsement" },
	};
	TPM2B_PUBLIC in = {
		.publicArea = {
			.type = TPM2_ALG_ECC,
			.nameAlg = TPM2_ALG_SHA256,
			.objectAttributes = TPMA_OBJECT_SIGN_ENCRYPT |
					    TPMA_OBJECT_RESTRICTED |
					    TPMA_OBJECT_FIXEDTPM |
					    TPMA_OBJECT_FIXEDPARENT |
					    TPMA_OBJECT_SENSITIVEDATAORIGIN |
					    TPMA_OBJECT_USERWITHAUTH,
			.parameters.eccDetail = {
				.symmetric.algorithm = TPM2_ALG_NULL,
				.scheme = {
					.scheme = TPM2_ALG_ECDSA,
					.details.ecdsa.hashAlg = TPM2_ALG_SHA256,
				},
				.curveID = TPM2_ECC_NIST_P256,
				.kdf.scheme = TPM2_ALG_NULL,
			},
		},
	};
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION none = { 0 };
	TPM2B_CREATION_DATA *cdata;
	TPM2B_DIGEST *chash;
	TPMT_TK_CREATION *ticket;
	TSS2_RC rc = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hier); i++) {
		rc = Esys_CreatePrimary(tpm->ctx, hier[i].handle,
					ESYS_TR_PASSWORD, ESYS_TR_NONE,
					ESYS_TR_NONE, &sens, &in, &outside,
					&none, &tpm->key, &tpm->pub, &cdata,
					&chash, &ticket);
		if (!rc)
			break;
	}
	if (rc)
		fatal("TPM2_CreatePrimary (ECC P-256 signing key): 0x%x", rc);
	tpm->hierarchy = hier[i].name;
	tpm->hierarchy_handle = hier[i].tpm_handle;
	Esys_Free(cdata);
	Esys_Free(chash);
	Esys_Free(ticket);
	tpm->pkey = ecc_pkey(&tpm->pub->publicArea.unique.ecc);
	if (!tpm->pkey)
		fatal("cannot use the key's public point with OpenSSL");
}

/*
 * The qualified name of the primary key, as TPMS_ATTEST.qualifiedSigner
 * holds it: nameAlg || sha256(hierarchy handle || Name), where the Name
 * is nameAlg || sha256(TPMT_PUBLIC).
 */
static int key_qualified_name(const struct tpm *tpm, uint8_t *qn, size_t *len)
{
	uint8_t buf[sizeof(TPMT_PUBLIC)], in[4 + 2 + 32];
	size_t off = 0;
	unsigned int l;

	if (Tss2_MU_TPMT_PUBLIC_Marshal(&tpm->pub->publicArea, buf,
					sizeof(buf), &off) ||
	    Tss2_MU_TPM2_HANDLE_Marshal(tpm->hierarchy_handle, in, 4, NULL))
		return -1;
	in[4] = TPM2_ALG_SHA256 >> 8;
	in[5] = TPM2_ALG_SHA256 & 0xff;
	EVP_Digest(buf, off, in + 6, &l, EVP_sha256(), NULL);
	qn[0] = TPM2_ALG_SHA256 >> 8;
	qn[1] = TPM2_ALG_SHA256 & 0xff;
	EVP_Digest(in, sizeof(in), qn + 2, &l, EVP_sha256(), NULL);
	*len = 2 + l;
	return 0;
}

static bool sig_ok(EVP_PKEY *pkey, const TPMT_SIGNATURE *sig,
		   const uint8_t *msg, size_t len)
{
	const TPMS_SIGNATURE_ECC *e = &sig->signature.ecdsa;
	ECDSA_SIG *es = ECDSA_SIG_new();
	BIGNUM *r, *s;
	EVP_MD_CTX *c = NULL;
	unsigned char *der = NULL;
	int dlen;
	bool ok = false;

	if (!es || sig->sigAlg != TPM2_ALG_ECDSA ||
	    e->hash != TPM2_ALG_SHA256)
		goto out;
	r = BN_bin2bn(e->signatureR.buffer, e->signatureR.size, NULL);
	s = BN_bin2bn(e->signatureS.buffer, e->signatureS.size, NULL);
	if (!r || !s || !ECDSA_SIG_set0(es, r, s)) {
		BN_free(r);
		BN_free(s);
		goto out;
	}
	dlen = i2d_ECDSA_SIG(es, &der);
	c = EVP_MD_CTX_new();
	ok = dlen > 0 && c &&
	     EVP_DigestVerifyInit(c, NULL, EVP_sha256(), NULL, pkey) == 1 &&
	     EVP_DigestVerify(c, der, dlen, msg, len) == 1;
out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(c);
	ECDSA_SIG_free(es);
	return ok;
}

/* sha256 of PCR 10 of each bank of @sel, in its order, from @v. */
static int sel_digest(const TPML_PCR_SELECTION *sel,
		      const struct ima_banks *bs,
		      uint8_t v[][IMA_MAX_DIGEST], uint8_t *out)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int i, l;
	int p;

	if (!c || !EVP_DigestInit_ex(c, EVP_sha256(), NULL))
		fatal("out of memory");
	for (i = 0; i < sel->count; i++) {
		const TPMS_PCR_SELECTION *s = &sel->pcrSelections[i];
		const char *name = bank_of_alg(s->hash);
		int b;

		for (b = 0; name && b < bs->n; b++)
			if (!strcmp(bs->b[b].name, name))
				break;
		for (p = 0; p < 8 * s->sizeofSelect && p < IMA_PCRS; p++) {
			if (!(s->pcrSelect[p / 8] & (1 << (p % 8))))
				continue;
			if (!name || b == bs->n || p != IMA_PCR) {
				EVP_MD_CTX_free(c);
				return -1;
			}
			EVP_DigestUpdate(c, v[b], bs->b[b].len);
		}
	}
	EVP_DigestFinal_ex(c, out, &l);
	EVP_MD_CTX_free(c);
	return 0;
}

/*
 * Quote PCR 10 of every bank with a fresh nonce and verify the quote;
 * then read PCR 10 and check that the values are the quoted ones.
 * Returns 0 with @t filled, or 1 if the PCRs changed between the quote
 * and the read (try again).  A quote that does not verify is fatal.
 */
static int tpm_quote(struct tpm *tpm, const struct ima_banks *bs,
		     struct target *t)
{
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	TPML_PCR_SELECTION sel = { .count = bs->n };
	TPML_PCR_SELECTION *rsel = NULL;
	TPML_DIGEST *vals = NULL;
	TPM2B_ATTEST *quoted = NULL;
	TPMT_SIGNATURE *sig = NULL;
	TPM2B_DATA nonce = { .size = 32 };
	uint8_t name[2 + 32], d[32];
	TPMS_ATTEST att;
	size_t off = 0, nlen;
	UINT32 counter, i, k;
	TSS2_RC rc;
	int b, ret = 1;

	for (b = 0; b < bs->n; b++) {
		TPMS_PCR_SELECTION *s = &sel.pcrSelections[b];

		s->hash = alg_of_bank(bs->b[b].name);
		s->sizeofSelect = 3;
		s->pcrSelect[IMA_PCR / 8] = 1 << (IMA_PCR % 8);
	}
	if (RAND_bytes(nonce.buffer, nonce.size) != 1)
		fatal("RAND_bytes failed");
	rc = Esys_Quote(tpm->ctx, tpm->key, ESYS_TR_PASSWORD, ESYS_TR_NONE,
			ESYS_TR_NONE, &nonce, &scheme, &sel, &quoted, &sig);
	if (rc)
		fatal("TPM2_Quote: 0x%x", rc);
	if (Tss2_MU_TPMS_ATTEST_Unmarshal(quoted->attestationData,
					  quoted->size, &off, &att) ||
	    off != quoted->size) {
		problem(EX_FAIL, "quote: the TPMS_ATTEST does not unmarshal");
		exit(finish());
	}
	if (att.magic != TPM2_GENERATED_VALUE || att.type != TPM2_ST_ATTEST_QUOTE)
		fatal("quote: not a TPM-generated quote (magic 0x%x, type 0x%x)",
		      att.magic, att.type);
	if (att.extraData.size != nonce.size ||
	    memcmp(att.extraData.buffer, nonce.buffer, nonce.size)) {
		problem(EX_FAIL, "quote: extraData is not the nonce (a replayed quote?)");
		exit(finish());
	}
	if (key_qualified_name(tpm, name, &nlen) ||
	    att.qualifiedSigner.size != nlen ||
	    memcmp(att.qualifiedSigner.name, name, nlen)) {
		problem(EX_FAIL, "quote: signed by another key than the one created");
		exit(finish());
	}
	if (!sig_ok(tpm->pkey, sig, quoted->attestationData, quoted->size)) {
		problem(EX_FAIL,
			"quote: the signature does not verify with the key");
		exit(finish());
	}
	tpm->sel = att.attested.quote.pcrSelect;
	tpm->pcr_digest = att.attested.quote.pcrDigest;
	for (b = 0; b < bs->n; b++) {
		TPM2_ALG_ID alg = alg_of_bank(bs->b[b].name);

		for (i = 0; i < tpm->sel.count; i++)
			if (tpm->sel.pcrSelections[i].hash == alg &&
			    tpm->sel.pcrSelections[i].sizeofSelect > IMA_PCR / 8 &&
			    (tpm->sel.pcrSelections[i].pcrSelect[IMA_PCR / 8] &
			     (1 << (IMA_PCR % 8))))
				break;
		if (i == tpm->sel.count)
			fatal("quote: PCR %d of bank %s was not quoted", IMA_PCR,
			      bs->b[b].name);
	}

	rc = Esys_PCR_Read(tpm->ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
			   &sel, &counter, &rsel, &vals);
	if (rc)
		fatal("TPM2_PCR_Read: 0x%x", rc);
	for (i = k = 0; i < rsel->count; i++) {
		const char *bank = bank_of_alg(rsel->pcrSelections[i].hash);

		if (!(rsel->pcrSelections[i].pcrSelect[IMA_PCR / 8] &
		      (1 << (IMA_PCR % 8))))
			continue;
		for (b = 0; bank && b < bs->n; b++)
			if (!strcmp(bank, bs->b[b].name))
				break;
		if (!bank || b == bs->n || k >= vals->count ||
		    vals->digests[k].size != bs->b[b].len)
			fatal("TPM2_PCR_Read returned unexpected values");
		memcpy(t->v[b], vals->digests[k].buffer, bs->b[b].len);
		k++;
	}
	if (k != (UINT32)bs->n)
		fatal("TPM2_PCR_Read returned %u of %d banks", k, bs->n);
	if (sel_digest(&tpm->sel, bs, t->v, d))
		fatal("quote: the TPM quoted another PCR selection");
	if (tpm->pcr_digest.size == sizeof(d) &&
	    !memcmp(tpm->pcr_digest.buffer, d, sizeof(d)))
		ret = 0;
	Esys_Free(quoted);
	Esys_Free(sig);
	Esys_Free(rsel);
	Esys_Free(vals);
	return ret;
}

/* --- the state of fast mode -------------------------------------------- */

struct state {
	long long records;
	int n;
	struct ima_marker_pcr pcrs[IMA_PCRS * IMA_MAX_BANKS];
};

static void read_state(const char *path, struct state *st)
{
	char line[512], *l, *end;
	int lineno = 0;
	FILE *f = fopen(path, "r");

	memset(st, 0, sizeof(*st));
	st->records = -1;
	if (!f)
		fatal("cannot read the state %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		l = clean_line(line);
		if (!l)
			continue;
		if (!strncmp(l, "Measurement_Count=", 18)) {
			errno = 0;
			st->records = strtoll(l + 18, &end, 10);
			if (errno || *end || end == l + 18 || st->records < 0)
				fatal("%s:%d: bad Measurement_Count", path,
				      lineno);
			continue;
		}
		if (st->n == (int)ARRAY_SIZE(st->pcrs) ||
		    ima_pcr_item_parse(l, &st->pcrs[st->n]))
			fatal("%s:%d: not <alg>:PCR<n>:<hex>", path, lineno);
		st->n++;
	}
	fclose(f);
	if (st->records < 0)
		fatal("%s: no Measurement_Count", path);
}

/* Start the replay from the state's PCR values. */
static void vstate_from_state(struct vstate *vs, const struct ima_banks *bs,
			      const struct state *st, const char *path)
{
	const struct ima_marker_pcr *mp;
	struct ima_bank *b;
	int i, j;

	vstate_init(vs, bs);
	vs->fast = true;
	/* The segment before the state's marker is in a piece not read. */
	vs->seg_known = false;
	vs->index = st->records;
	vs->from = st->records;
	for (i = 0; i < vs->bs.n; i++) {
		b = &vs->bs.b[i];
		mp = NULL;
		for (j = 0; j < st->n; j++)
			if (st->pcrs[j].pcr == IMA_PCR &&
			    !strcmp(st->pcrs[j].alg, b->name))
				mp = &st->pcrs[j];
		if (!mp)
			fatal("the state %s has no %s:PCR%d value: run a full verification",
			      path, b->name, IMA_PCR);
	}
	for (i = 0; i < st->n; i++) {
		mp = &st->pcrs[i];
		b = ima_bank_find(&vs->bs, mp->alg);
		if (!b)
			continue;
		if (mp->len != b->len)
			fatal("the state %s: %s:PCR%d has %u bytes", path,
			      mp->alg, mp->pcr, mp->len);
		memcpy(b->pcr[mp->pcr], mp->value, b->len);
		b->used |= 1u << mp->pcr;
	}
}

/* The PCR values before the marker at the head of the live list. */
static void save_state(const char *path, const struct vstate *vs)
{
	char tmp[PATH_MAX], hex[2 * IMA_MAX_DIGEST + 1];
	FILE *f;
	int i, p;

	if (!vs->have_head) {
		note("%s: no state saved",
		     "the live list does not start with a snapshot_aggregate record");
		return;
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		fatal("%s: name too long", path);
	f = fopen(tmp, "w");
	if (!f)
		fatal("cannot write %s: %s", tmp, strerror(errno));
	fprintf(f, "# ima_verify state: PCR values trusted at the snapshot_aggregate record\n");
	fprintf(f, "Measurement_Count=%llu\n", vs->head_index);
	for (i = 0; i < vs->head.n; i++) {
		const struct ima_bank *b = &vs->head.b[i];

		for (p = 0; p < IMA_PCRS; p++) {
			if (!((b->used | 1u << IMA_PCR) & (1u << p)))
				continue;
			ima_hex(b->pcr[p], b->len, hex);
			fprintf(f, "%s:PCR%d:%s\n", b->name, p, hex);
		}
	}
	if (fflush(f) || fsync(fileno(f)) || fclose(f) || rename(tmp, path)) {
		unlink(tmp);
		fatal("cannot write %s: %s", path, strerror(errno));
	}
	out("state saved to %s: the snapshot_aggregate record of record %llu\n",
	    path, vs->head_index);
}

/* --- main -------------------------------------------------------------- */

static void print_usage(FILE *f)
{
	fprintf(f,
		"usage: ima_verify [--dir DIR] [--live FILE] [--pcrs FILE | --quote]\n"
		"                  [--state FILE] [--save-state FILE] [--quiet]\n"
		"\n"
		"Replay the IMA log since cold boot (the pieces of DIR, default %s,\n"
		"then the live list) and check it against PCR 10.\n"
		"\n"
		"  --dir DIR          the pieces piece-<START>-<END>.bin of ima_snapshot_agent\n"
		"  --live FILE        the live list (default <securityfs>/ima/binary_runtime_measurements)\n"
		"  --pcrs FILE        PCR values \"<alg>:PCR10:<hex>\", one line per bank\n"
		"                     (default: %s/pcr-<alg>/10 of every bank)\n"
		"  --quote            quote PCR 10 (sha1, sha256) with a new TPM key and verify\n"
		"                     it; the TPM is /dev/tpmrm0 or $IMA_VERIFY_TCTI\n"
		"  --state FILE       fast mode: start from the state of an earlier run at its\n"
		"                     marker M, read only the pieces from M on and the live list\n"
		"  --save-state FILE  after a successful run, full or fast, save the state at\n"
		"                     the marker at the head of the live list, for --state\n"
		"  --quiet            print only the verdict\n"
		"\n"
		"Exit status: 0 ok, 1 mismatch or corruption, 2 usage or I/O error.\n",
		DEFAULT_DIR, TPM_SYSFS);
}

enum source { SRC_SYSFS, SRC_FILE, SRC_QUOTE };

static int read_live(const char *path, uint8_t **buf, size_t *len)
{
	int i;

	for (i = 0; i < 10; i++) {
		if (!ima_read_file(path, buf, len))
			return 0;
		if (errno != ESTALE)	/* trimmed while we read */
			break;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "live", required_argument, NULL, 'l' },
		{ "pcrs", required_argument, NULL, 'p' },
		{ "quote", no_argument, NULL, 'Q' },
		{ "state", required_argument, NULL, 's' },
		{ "save-state", required_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const char *pcrs = NULL, *state_path = NULL, *save_path = NULL;
	char live_path[PATH_MAX] = "", hr[2 * IMA_MAX_DIGEST + 1];
	char ht[2 * IMA_MAX_DIGEST + 1], ok[128], lp[PATH_MAX];
	unsigned long long pieces_end = 0;
	uint8_t rv[IMA_MAX_BANKS][IMA_MAX_DIGEST], *live = NULL, *live2, d[32];
	struct vstate base, vs;
	enum source src = SRC_SYSFS;
	struct ima_banks bs;
	struct target t;
	struct state st;
	struct tpm tpm;
	struct unit u;
	bool dir_given = false, match = false;
	size_t llen = 0, llen2;
	int c, i, try, lock = -1;
	long n;

	while ((c = getopt_long(argc, argv, "hq", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			dir_given = true;
			break;
		case 'l':
			snprintf(live_path, sizeof(live_path), "%s", optarg);
			break;
		case 'p':
			pcrs = optarg;
			break;
		case 'Q':
			src = SRC_QUOTE;
			break;
		case 's':
			state_path = optarg;
			break;
		case 'S':
			save_path = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			print_usage(stdout);
			return EX_OK;
		default:
			print_usage(stderr);
			return EX_ERR;
		}
	}
	if (optind != argc || (pcrs && src == SRC_QUOTE)) {
		print_usage(stderr);
		return EX_ERR;
	}
	if (pcrs)
		src = SRC_FILE;
	if (!live_path[0] &&
	    ima_secfs_path(live_path, sizeof(live_path),
			   "binary_runtime_measurements"))
		fatal("$IMA_SECURITYFS is too long");

	/* The banks to replay: those of the PCR source. */
	memset(&t, 0, sizeof(t));
	if (src == SRC_FILE) {
		read_pcrs_file(pcrs, &bs, &t);
	} else if (src == SRC_QUOTE) {
		tpm_open(&tpm);
		open_tpm = &tpm;
		atexit(tpm_atexit);
		tpm_banks(&tpm, &bs);
		tpm_create_key(&tpm);
	} else if (ima_banks_from_tpm(&bs)) {
		fatal("no TPM PCR bank in %s: use --pcrs FILE or --quote",
		      TPM_SYSFS);
	}

	/*
	 * The live list is read first (again below for the PCR values): an
	 * agent's piece that is still live must be recognised, and in fast
	 * mode the list may be where the state's marker is.  The agent
	 * changes the store only under LOCK_EX of DIR/lock.
	 */
	if (piece_path(lp, "lock") == 0) {
		lock = open(lp, O_RDONLY | O_CLOEXEC);
		while (lock >= 0 && flock(lock, LOCK_SH) && errno == EINTR)
			;
	}
	if (read_live(live_path, &live, &llen))
		fatal("cannot read the live list %s: %s", live_path,
		      strerror(errno));

	if (state_path) {
		read_state(state_path, &st);
		vstate_from_state(&base, &bs, &st, state_path);
		out("state %s: PCR values trusted at record %lld\n",
		    state_path, st.records);
	} else {
		vstate_init(&base, &bs);
	}
	pieces_end = replay_pieces(&base, live, llen, dir_given);

	/*
	 * The live list and the PCR values must be of the same moment: read
	 * the list, the PCRs, the list again, and retry if it changed (or
	 * if the replay does not match: an extend may have been in flight).
	 */
	for (try = 0; ; try++) {
		if (!live && read_live(live_path, &live, &llen))
			fatal("cannot read the live list %s: %s", live_path,
			      strerror(errno));
		if (src == SRC_SYSFS)
			read_sysfs_pcrs(&bs, &t);
		if (src == SRC_QUOTE && tpm_quote(&tpm, &bs, &t)) {
			if (try == LIVE_TRIES * 2)
				fatal("quote: PCR 10 keeps changing");
			free(live);
			live = NULL;
			continue;
		}
		if (src != SRC_FILE) {
			if (read_live(live_path, &live2, &llen2))
				fatal("cannot read the live list %s: %s",
				      live_path, strerror(errno));
			if (llen2 != llen || memcmp(live, live2, llen)) {
				free(live);
				live = live2;
				llen = llen2;
				if (try == LIVE_TRIES * 2)
					fatal("the live list keeps changing");
				continue;
			}
			free(live2);
		}
		vstate_copy(&vs, &base);
		unit_init(&u, "%s", "live list");
		n = replay_buf(&vs, &u, live, llen, LIVE_START, pieces_end);
		match = true;
		for (i = 0; i < bs.n; i++)
			if (memcmp(vs.bs.b[i].pcr[IMA_PCR], t.v[i],
				   bs.b[i].len))
				match = false;
		if (match || src == SRC_FILE || try >= LIVE_TRIES - 1)
			break;
		seg_free(&vs);
		free(live);
		live = NULL;
		usleep(100000);
	}
	if (lock >= 0)
		close(lock);

	snprintf(ok, sizeof(ok), "%ld records (%llu to %llu)", n,
		 vs.index - n, vs.index - 1);
	unit_commit(&u, n ? ok : "0 records");
	if (src == SRC_QUOTE) {
		out("quote: verified: %s of the %s hierarchy over PCR %d of",
		    "ECDSA P-256 signature of a primary key", tpm.hierarchy,
		    IMA_PCR);
		for (i = 0; i < bs.n; i++)
			out(" %s", bs.b[i].name);
		out(", nonce matches\n");
		for (i = 0; i < bs.n; i++)
			memcpy(rv[i], vs.bs.b[i].pcr[IMA_PCR], bs.b[i].len);
		if (!sel_digest(&tpm.sel, &bs, rv, d) &&
		    tpm.pcr_digest.size == sizeof(d) &&
		    !memcmp(tpm.pcr_digest.buffer, d, sizeof(d))) {
			out("quote: pcrDigest equals sha256 of the replayed PCR %d values\n",
			    IMA_PCR);
		} else {
			out("quote: pcrDigest differs from sha256 of the replayed PCR %d values\n",
			    IMA_PCR);
			problem(EX_FAIL,
				"quote: pcrDigest differs from sha256 of the replayed PCR %d values (%llu records since boot)",
				IMA_PCR, vs.index);
		}
	}
	for (i = 0; i < bs.n; i++) {
		struct ima_bank *b = &vs.bs.b[i];

		if (!memcmp(b->pcr[IMA_PCR], t.v[i], b->len)) {
			out("bank %s: PCR%d matches\n", b->name, IMA_PCR);
			continue;
		}
		ima_hex(b->pcr[IMA_PCR], b->len, hr);
		ima_hex(t.v[i], b->len, ht);
		out("bank %s: PCR%d differs: replay %s, TPM %s\n", b->name,
		    IMA_PCR, hr, ht);
		problem(EX_FAIL,
			"bank %s: PCR%d differs: replay %s, TPM %s (%llu records since boot)",
			b->name, IMA_PCR, hr, ht, vs.index);
	}
	free(live);
	if (status == EX_OK && save_path)
		save_state(save_path, &vs);
	if (src == SRC_QUOTE)
		tpm_close(&tpm);
	seg_free(&vs);
	seg_free(&base);
	return finish();
}
