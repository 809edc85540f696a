// SPDX-License-Identifier: GPL-2.0
/*
 * ima_mklog: write a synthetic IMA measurement history, for testing
 * ima_verify on a host without CONFIG_IMA_LOG_SNAPSHOT.
 *
 * usage: ima_mklog --dir DIR --live FILE [--pcrs FILE] [--extends FILE]
 *                  [--banks sha1,sha256] [--hash ALG] [--tamper N] SPEC
 *
 * The history starts with a boot_aggregate record; then each letter of
 * SPEC adds one record:
 *   r  an ima-ng file measurement on PCR 10
 *   p  an ima-ng file measurement on PCR 11 (a pcr= policy rule)
 *   v  a violation (all-zero template digest, extends with 0xff..ff)
 *   a  a snapshot_aggregate record (a snapshot opened, not finalized)
 *   s  a snapshot_aggregate record, and the snapshot finalized: the
 *      records before it, since the previous finalized one, are written
 *      as DIR/piece-<START>-<END>.bin (IMA_PIECE_FMT)
 * The records after the last finalized snapshot (it included) go to the
 * live FILE, as binary_runtime_measurements shows them after the trims.
 *
 * The markers are formatted as ima_marker_format() in ima_snapshot.c
 * does: the counters, Segment_Count and Segment_Digest (in --hash, default
 * sha256, over the template digests in that algorithm of the records
 * after the previous marker), then the values before the marker of every
 * PCR extended so far, bank by bank in the order of --banks (default
 * sha1,sha256).  The template digests are computed as the kernel does.
 *
 * --pcrs FILE     the final values of PCR 10, "<alg>:PCR10:<hex>" a line
 * --extends FILE  one line per record: "<pcr>:<alg>=<hex>,..." in the form
 *                 tpm2_pcrextend takes, to make a TPM match the history
 * --tamper N      write record N with another event name and a sha1
 *                 template digest recomputed to match it: a consistent
 *                 forgery only the PCR values in the markers can expose
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "imalog.h"

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "ima_mklog: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	exit(2);
}

static void put(struct buf *b, const void *p, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 4096;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			die("%s", "out of memory");
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
}

static void put_u32(struct buf *b, uint32_t v)
{
	put(b, &v, sizeof(v));
}

static void put_field(struct buf *b, const void *p, uint32_t len)
{
	put_u32(b, len);
	put(b, p, len);
}

static const EVP_MD *md_of(const char *alg)
{
	const EVP_MD *md = EVP_get_digestbyname(alg);

	if (!md)
		die("unknown hash algorithm %s", alg);
	return md;
}

static unsigned int digest(const char *alg, const void *p, size_t len,
			   uint8_t *out)
{
	unsigned int l;

	EVP_Digest(p, len, out, &l, md_of(alg), NULL);
	return l;
}

/* The d-ng field: "<alg>:" NUL digest (all-zero for a violation). */
static void put_dng(struct buf *td, const char *alg, const uint8_t *d)
{
	unsigned int dlen = EVP_MD_size(md_of(alg));
	struct buf f = { 0 };

	put(&f, alg, strlen(alg));
	put(&f, ":", 2);
	put(&f, d, dlen);
	put_field(td, f.p, f.len);
	free(f.p);
}

/* Append a record: template @tname, template data @td. */
static void put_rec(struct buf *list, int pcr, const char *tname,
		    const struct buf *td, int violation)
{
	uint8_t d[IMA_MAX_DIGEST] = { 0 };

	if (!violation)
		digest("sha1", td->p, td->len, d);
	put_u32(list, pcr);
	put(list, d, IMA_SHA1_SIZE);
	put_u32(list, strlen(tname));
	put(list, tname, strlen(tname));
	put_u32(list, td->len);
	put(list, td->p, td->len);
}

/* An ima-ng record for a file, as ima_store_measurement() makes it. */
static void add_file(struct buf *list, const char *hash_alg, int pcr,
		     const char *name, int violation)
{
	uint8_t d[IMA_MAX_DIGEST] = { 0 };
	struct buf td = { 0 };

	if (!violation)
		digest(hash_alg, name, strlen(name), d);
	put_dng(&td, hash_alg, d);
	put_field(&td, name, strlen(name) + 1);
	put_rec(list, pcr, "ima-ng", &td, violation);
	free(td.p);
}

struct gen {
	struct buf list;		/* the whole history */
	struct ima_banks bs;		/* its replay */
	const char *hash_alg;		/* ima_hash= */
	EVP_MD_CTX *seg;		/* the segment since the last marker */
	unsigned long long nrec, seg_records;
	unsigned long long attempts, snapshots;
	uint32_t pcr_mask;		/* PCRs extended since boot */
	FILE *extends;
};

/* Replay the record just appended at @off, and add it to the segment. */
static void account(struct gen *g, size_t off)
{
	uint8_t td[IMA_MAX_BANKS][IMA_MAX_DIGEST], d[IMA_MAX_DIGEST] = { 0 };
	char hex[2 * IMA_MAX_DIGEST + 1];
	struct ima_rec r;
	int i, dlen;

	if (ima_next_rec(g->list.p, g->list.len, &off, &r) != 1)
		die("%s", "internal error: bad record");
	ima_banks_extend_digests(&g->bs, &r, td);
	dlen = EVP_MD_size(md_of(g->hash_alg));
	if (!ima_rec_is_violation(&r))
		ima_rec_hash(&r, md_of(g->hash_alg), d);
	EVP_DigestUpdate(g->seg, d, dlen);
	g->seg_records++;
	g->nrec++;
	g->pcr_mask |= 1u << r.pcr;
	if (!g->extends)
		return;
	fprintf(g->extends, "%u:", r.pcr);
	for (i = 0; i < g->bs.n; i++) {
		if (ima_rec_is_violation(&r))
			memset(td[i], 0xff, g->bs.b[i].len);
		ima_hex(td[i], g->bs.b[i].len, hex);
		fprintf(g->extends, "%s%s=%s", i ? "," : "", g->bs.b[i].name,
			hex);
	}
	fprintf(g->extends, "\n");
}

/* The snapshot_aggregate record, as ima_snapshot_add_marker() makes it. */
static void add_marker(struct gen *g)
{
	char text[8192], hex[2 * IMA_MAX_DIGEST + 1];
	uint8_t seg[IMA_MAX_DIGEST], d[IMA_MAX_DIGEST];
	static const char name[] = "snapshot_aggregate";
	struct buf td = { 0 };
	unsigned int slen;
	size_t len, off;
	int i, pcr;

	EVP_DigestFinal_ex(g->seg, seg, &slen);
	ima_hex(seg, slen, hex);
	len = snprintf(text, sizeof(text),
		       "Snapshot_Attempt_Count=%llu;Snapshot_Count=%llu;Measurement_Count=%llu;Segment_Count=%llu;Segment_Digest=%s:%s;",
		       g->attempts + 1, g->snapshots, g->nrec, g->seg_records,
		       g->hash_alg, hex);
	for (i = 0; i < g->bs.n; i++) {
		for (pcr = 0; pcr < IMA_PCRS; pcr++) {
			if (!(g->pcr_mask & (1u << pcr)))
				continue;
			ima_hex(g->bs.b[i].pcr[pcr], g->bs.b[i].len, hex);
			len += snprintf(text + len, sizeof(text) - len,
					"%s:PCR%d:%s;", g->bs.b[i].name, pcr, hex);
		}
	}
	if (len >= sizeof(text))
		die("%s", "marker too long");
	digest(g->hash_alg, text, len, d);
	put_dng(&td, g->hash_alg, d);
	put_field(&td, name, sizeof(name));
	put_field(&td, text, len);
	off = g->list.len;
	put_rec(&g->list, 10, "ima-buf", &td, 0);
	free(td.p);
	g->attempts++;
	/* The marker starts a new segment; it is in none itself. */
	EVP_DigestInit_ex(g->seg, md_of(g->hash_alg), NULL);
	account(g, off);
	g->seg_records = 0;
	EVP_DigestInit_ex(g->seg, md_of(g->hash_alg), NULL);
}

static void write_file(const char *path, const uint8_t *p, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f || (len && fwrite(p, len, 1, f) != 1) || fclose(f))
		die("cannot write %s", path);
}

/* Byte offset of record @n of the history, or of its end. */
static size_t rec_offset(const struct buf *list, unsigned long long n)
{
	struct ima_rec r;
	size_t off = 0;

	while (n-- && ima_next_rec(list->p, list->len, &off, &r) == 1)
		;
	return off;
}

/* Rewrite record @n with another event name and a matching digest. */
static void tamper(struct buf *list, unsigned long long n)
{
	size_t off = rec_offset(list, n), o2 = off;
	struct ima_field f[4];
	struct ima_rec r;
	struct buf out = { 0 }, td = { 0 };

	if (ima_next_rec(list->p, list->len, &o2, &r) != 1 ||
	    !ima_rec_is(&r, "ima-ng") || ima_rec_fields(&r, f, 4) != 2 ||
	    f[1].len < 2)
		die("%s", "--tamper: not an ima-ng record");
	put_field(&td, f[0].data, f[0].len);
	put_u32(&td, f[1].len);
	put(&td, f[1].data, f[1].len);
	td.p[td.len - 2] ^= 0x01;	/* the last character of the name */
	put(&out, list->p, off);
	put_rec(&out, r.pcr, "ima-ng", &td, 0);
	put(&out, list->p + o2, list->len - o2);
	free(list->p);
	free(td.p);
	*list = out;
}

static void usage(void)
{
	die("%s", "usage: ima_mklog --dir DIR --live FILE [--pcrs FILE]\n"
		  "                 [--extends FILE] [--banks A,B] [--hash ALG]\n"
		  "                 [--tamper N] SPEC");
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "live", required_argument, NULL, 'l' },
		{ "pcrs", required_argument, NULL, 'p' },
		{ "extends", required_argument, NULL, 'e' },
		{ "banks", required_argument, NULL, 'b' },
		{ "hash", required_argument, NULL, 'H' },
		{ "tamper", required_argument, NULL, 't' },
		{ }
	};
	const char *dir = NULL, *live = NULL, *pcrs = NULL, *spec;
	char banks[128] = "sha1,sha256", *tok, *save;
	unsigned long long cuts[256], start, tamper_at = ~0ULL;
	char path[PATH_MAX], name[64], hex[2 * IMA_MAX_DIGEST + 1];
	struct gen g = { .hash_alg = "sha256" };
	int c, i, ncuts = 0;
	size_t a, b;
	FILE *f;

	while ((c = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'l':
			live = optarg;
			break;
		case 'p':
			pcrs = optarg;
			break;
		case 'e':
			g.extends = fopen(optarg, "w");
			if (!g.extends)
				die("cannot write %s", optarg);
			break;
		case 'b':
			snprintf(banks, sizeof(banks), "%s", optarg);
			break;
		case 'H':
			g.hash_alg = optarg;
			md_of(optarg);
			break;
		case 't':
			tamper_at = strtoull(optarg, NULL, 10);
			break;
		default:
			usage();
		}
	}
	if (!dir || !live || optind != argc - 1)
		usage();
	spec = argv[optind];
	for (tok = strtok_r(banks, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		if (ima_bank_add(&g.bs, tok))
			die("unknown bank %s", tok);
	g.seg = EVP_MD_CTX_new();
	EVP_DigestInit_ex(g.seg, md_of(g.hash_alg), NULL);

	a = g.list.len;
	add_file(&g.list, g.hash_alg, 10, "boot_aggregate", 0);
	account(&g, a);
	for (i = 0; spec[i]; i++) {
		snprintf(name, sizeof(name), "/usr/bin/prog-%llu", g.nrec);
		a = g.list.len;
		switch (spec[i]) {
		case 'r':
		case 'p':
		case 'v':
			add_file(&g.list, g.hash_alg, spec[i] == 'p' ? 11 : 10,
				 name, spec[i] == 'v');
			account(&g, a);
			break;
		case 'a':
		case 's':
			if (spec[i] == 's') {
				if (ncuts == (int)ARRAY_SIZE(cuts))
					die("%s", "too many snapshots");
				cuts[ncuts++] = g.nrec;
			}
			add_marker(&g);
			if (spec[i] == 's')
				g.snapshots++;
			break;
		default:
			die("bad SPEC letter in %s", spec);
		}
	}
	if (tamper_at != ~0ULL)
		tamper(&g.list, tamper_at);

	start = 0;
	for (i = 0; i < ncuts; i++) {
		a = rec_offset(&g.list, start);
		b = rec_offset(&g.list, cuts[i]);
		snprintf(name, sizeof(name), IMA_PIECE_FMT, start, cuts[i]);
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		write_file(path, g.list.p + a, b - a);
		start = cuts[i];
	}
	a = rec_offset(&g.list, start);
	write_file(live, g.list.p + a, g.list.len - a);
	if (pcrs) {
		f = fopen(pcrs, "w");
		if (!f)
			die("cannot write %s", pcrs);
		for (i = 0; i < g.bs.n; i++) {
			ima_hex(g.bs.b[i].pcr[10], g.bs.b[i].len, hex);
			fprintf(f, "%s:PCR10:%s\n", g.bs.b[i].name, hex);
		}
		if (fclose(f))
			die("cannot write %s", pcrs);
	}
	if (g.extends && fclose(g.extends))
		die("%s", "cannot write --extends");
	printf("%llu records, %d pieces, %llu in the live list\n", g.nrec,
	       ncuts, g.nrec - start);
	EVP_MD_CTX_free(g.seg);
	free(g.list.p);
	return 0;
}
