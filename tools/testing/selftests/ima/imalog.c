// SPDX-License-Identifier: GPL-2.0
/*
 * Parse and replay IMA binary measurement lists.
 *
 * The binary format (see ima_measurements_show() in ima_fs.c), host
 * endian unless booted with ima_canonical_fmt (little endian), which on
 * x86 is the same:
 *   u32 pcr; u8 digest[20]; u32 name_len; char name[name_len];
 *   u32 data_len; u8 data[data_len]
 * For every template but "ima", the template digest of a bank is the hash,
 * in that bank's algorithm, of the template data exactly as listed (each
 * field as u32 length + bytes).  A violation is listed with an all-zero
 * digest and extends every bank with all-ones.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "imalog.h"

int ima_read_file(const char *path, uint8_t **buf, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	uint8_t *b = malloc(cap);
	int fd = open(path, O_RDONLY);
	ssize_t r;

	if (fd < 0 || !b) {
		free(b);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	for (;;) {
		if (n == cap) {
			uint8_t *nb = realloc(b, cap * 2);

			if (!nb)
				goto err;
			b = nb;
			cap *= 2;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			goto err;
		}
		if (r == 0)
			break;
		n += r;
	}
	close(fd);
	*buf = b;
	*len = n;
	return 0;
err:
	r = errno;
	close(fd);
	free(b);
	errno = r;
	return -1;
}

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int ima_next_rec(const uint8_t *buf, size_t len, size_t *off,
		 struct ima_rec *r)
{
	size_t o = *off;

	if (o == len)
		return 0;
	memset(r, 0, sizeof(*r));
	r->offset = o;
	if (len - o < 4 + IMA_SHA1_SIZE + 4)
		goto bad;
	r->pcr = get_u32(buf + o);
	o += 4;
	r->digest = buf + o;
	o += IMA_SHA1_SIZE;
	r->tname_len = get_u32(buf + o);
	o += 4;
	if (r->tname_len == 0 || r->tname_len > 255 || len - o < r->tname_len)
		goto bad;
	r->tname = (const char *)buf + o;
	o += r->tname_len;
	if (r->tname_len == 3 && !memcmp(r->tname, "ima", 3))
		goto bad;	/* the old "ima" template has no length: unsupported */
	if (len - o < 4)
		goto bad;
	r->data_len = get_u32(buf + o);
	o += 4;
	if (len - o < r->data_len || r->pcr >= IMA_PCRS)
		goto bad;
	r->data = buf + o;
	o += r->data_len;
	r->size = o - r->offset;
	*off = o;
	return 1;
bad:
	errno = EINVAL;
	return -1;
}

int ima_rec_is(const struct ima_rec *r, const char *tname)
{
	return r->tname_len == strlen(tname) &&
	       !memcmp(r->tname, tname, r->tname_len);
}

int ima_rec_fields(const struct ima_rec *r, struct ima_field *f, int max)
{
	uint32_t o = 0;
	int n = 0;

	while (o < r->data_len) {
		uint32_t l;

		if (r->data_len - o < 4 || n == max)
			return -1;
		l = get_u32(r->data + o);
		o += 4;
		if (r->data_len - o < l)
			return -1;
		f[n].data = r->data + o;
		f[n].len = l;
		o += l;
		n++;
	}
	return n;
}

void ima_rec_event_name(const struct ima_rec *r, char *out, size_t outlen)
{
	struct ima_field f[8];
	int n = ima_rec_fields(r, f, 8);
	size_t l;

	out[0] = '\0';
	if (n < 2 || outlen == 0)
		return;
	l = f[1].len < outlen - 1 ? f[1].len : outlen - 1;
	memcpy(out, f[1].data, l);
	out[l] = '\0';
}

long ima_count_recs(const uint8_t *buf, size_t len)
{
	struct ima_rec r;
	size_t off = 0;
	long n = 0;
	int rc;

	while ((rc = ima_next_rec(buf, len, &off, &r)) == 1)
		n++;
	return rc < 0 ? -1 : n;
}

void ima_banks_reset(struct ima_banks *bs)
{
	int i;

	for (i = 0; i < bs->n; i++) {
		memset(bs->b[i].pcr, 0, sizeof(bs->b[i].pcr));
		bs->b[i].used = 0;
	}
}

int ima_bank_add(struct ima_banks *bs, const char *name)
{
	const EVP_MD *md = EVP_get_digestbyname(name);
	struct ima_bank *b;

	if (!md || bs->n == IMA_MAX_BANKS ||
	    strlen(name) >= sizeof(b->name)) {
		errno = ENOENT;
		return -1;
	}
	b = &bs->b[bs->n++];
	memset(b, 0, sizeof(*b));
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->md = md;
	b->len = EVP_MD_size(md);
	return 0;
}

int ima_banks_from_tpm(struct ima_banks *bs)
{
	DIR *d = opendir(TPM_SYSFS);
	struct dirent *de;

	memset(bs, 0, sizeof(*bs));
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "pcr-", 4))
			continue;
		/* A bank OpenSSL does not know (sm3_256) cannot be replayed. */
		if (ima_bank_add(bs, de->d_name + 4))
			fprintf(stderr, "# bank %s not replayed\n", de->d_name + 4);
	}
	closedir(d);
	return bs->n ? 0 : -1;
}

static void hash(const void *md, const uint8_t *data, size_t len,
		 uint8_t *out)
{
	unsigned int l;

	EVP_Digest(data, len, out, &l, md, NULL);
}

int ima_rec_check_digest(const struct ima_rec *r)
{
	static const uint8_t zero[IMA_SHA1_SIZE];
	uint8_t d[IMA_SHA1_SIZE];

	if (!memcmp(r->digest, zero, IMA_SHA1_SIZE))
		return 0;	/* violation */
	hash(EVP_sha1(), r->data, r->data_len, d);
	return memcmp(d, r->digest, IMA_SHA1_SIZE) ? -1 : 0;
}

void ima_banks_extend_digests(struct ima_banks *bs, const struct ima_rec *r,
			      uint8_t td[][IMA_MAX_DIGEST])
{
	static const uint8_t zero[IMA_SHA1_SIZE];
	int violation = !memcmp(r->digest, zero, IMA_SHA1_SIZE);
	uint8_t buf[2 * IMA_MAX_DIGEST];
	int i;

	for (i = 0; i < bs->n; i++) {
		struct ima_bank *b = &bs->b[i];

		memcpy(buf, b->pcr[r->pcr], b->len);
		if (violation)
			memset(buf + b->len, 0xff, b->len);
		else
			hash(b->md, r->data, r->data_len, buf + b->len);
		if (td && violation)
			memset(td[i], 0, b->len);
		else if (td)
			memcpy(td[i], buf + b->len, b->len);
		hash(b->md, buf, 2 * b->len, b->pcr[r->pcr]);
		b->used |= 1u << r->pcr;
	}
}

void ima_banks_extend(struct ima_banks *bs, const struct ima_rec *r)
{
	ima_banks_extend_digests(bs, r, NULL);
}

struct ima_bank *ima_bank_find(struct ima_banks *bs, const char *name)
{
	int i;

	for (i = 0; i < bs->n; i++)
		if (!strcmp(bs->b[i].name, name))
			return &bs->b[i];
	return NULL;
}

long ima_banks_replay(struct ima_banks *bs, const uint8_t *buf, size_t len)
{
	struct ima_rec r;
	size_t off = 0;
	long n = 0;
	int rc;

	while ((rc = ima_next_rec(buf, len, &off, &r)) == 1) {
		ima_banks_extend(bs, &r);
		n++;
	}
	return rc < 0 ? -1 : n;
}

int ima_unhex(const char *hex, uint8_t *out, size_t outlen)
{
	size_t n = 0;

	while (isxdigit((unsigned char)hex[0]) &&
	       isxdigit((unsigned char)hex[1])) {
		char b[3] = { hex[0], hex[1], 0 };

		if (n == outlen)
			return -1;
		out[n++] = strtoul(b, NULL, 16);
		hex += 2;
	}
	return n;
}

void ima_hex(const uint8_t *in, size_t len, char *out)
{
	size_t i;

	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
	out[2 * len] = '\0';
}

int ima_sysfs_pcr(const char *alg, int pcr, uint8_t *out, unsigned int len)
{
	char path[128], hex[2 * IMA_MAX_DIGEST + 2] = "";
	int fd, n;

	snprintf(path, sizeof(path), TPM_SYSFS "/pcr-%s/%d", alg, pcr);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, hex, sizeof(hex) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	hex[n] = '\0';
	return ima_unhex(hex, out, len) == (int)len ? 0 : -1;
}

long long ima_read_ull(const char *path)
{
	char b[32] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	return strtoll(b, NULL, 10);
}

int ima_tpm_present(void)
{
	return access(TPM_SYSFS, F_OK) == 0;
}

int ima_tpm_required(void)
{
	uint8_t *b;
	size_t n;
	int req;

	if (ima_read_file("/proc/cmdline", &b, &n))
		return 0;
	req = !!memmem(b, n, "imatest.tpm=required", 20);
	free(b);
	return req;
}

int ima_rec_is_marker(const struct ima_rec *r)
{
	char name[64];

	if (!ima_rec_is(r, "ima-buf"))
		return 0;
	ima_rec_event_name(r, name, sizeof(name));
	return !strcmp(name, "snapshot_aggregate");
}

static int parse_ll(const char *v, size_t vlen, long long *out)
{
	char b[32];
	char *end;

	if (vlen == 0 || vlen >= sizeof(b))
		return -1;
	memcpy(b, v, vlen);
	b[vlen] = '\0';
	*out = strtoll(b, &end, 10);
	return *end ? -1 : 0;
}

int ima_pcr_item_parse(const char *item, struct ima_marker_pcr *mp)
{
	const char *a;
	char *h;
	int n;

	a = strstr(item, ":PCR");
	if (!a || a == item || a - item >= (long)sizeof(mp->alg))
		goto bad;
	memcpy(mp->alg, item, a - item);
	mp->alg[a - item] = '\0';
	mp->pcr = strtol(a + 4, &h, 10);
	if (*h != ':' || mp->pcr < 0 || mp->pcr >= IMA_PCRS)
		goto bad;
	n = ima_unhex(h + 1, mp->value, IMA_MAX_DIGEST);
	if (n <= 0 || 2 * (size_t)n != strlen(h + 1))
		goto bad;
	mp->len = n;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/*
 * The grammar (Documentation/security/IMA-snapshot.rst):
 *   buffer := item+ ; item := key "=" value ";" | alg ":PCR" n ":" hex ";"
 */
int ima_marker_parse(const uint8_t *buf, size_t len, struct ima_marker *mk)
{
	const char *p = (const char *)buf, *end = p + len;

	memset(mk, 0, sizeof(*mk));
	mk->attempts = -1;
	mk->snapshots = -1;
	mk->records = -1;
	mk->seg_records = -1;
	while (p < end) {
		const char *semi = memchr(p, ';', end - p);
		const char *eq, *colon;
		size_t ilen;

		if (!semi)
			goto bad;
		ilen = semi - p;
		eq = memchr(p, '=', ilen);
		if (eq) {
			size_t klen = eq - p, vlen = semi - eq - 1;
			const char *v = eq + 1;
			long long *dst = NULL;

			if (klen == 22 && !memcmp(p, "Snapshot_Attempt_Count", 22))
				dst = &mk->attempts;
			else if (klen == 14 && !memcmp(p, "Snapshot_Count", 14))
				dst = &mk->snapshots;
			else if (klen == 17 && !memcmp(p, "Measurement_Count", 17))
				dst = &mk->records;
			else if (klen == 13 && !memcmp(p, "Segment_Count", 13))
				dst = &mk->seg_records;
			if (dst) {
				if (parse_ll(v, vlen, dst))
					goto bad;
			} else if (klen == 14 && !memcmp(p, "Segment_Digest", 14)) {
				char hex[2 * IMA_MAX_DIGEST + 1];
				int n;

				colon = memchr(v, ':', vlen);
				if (!colon || colon - v >= (long)sizeof(mk->seg_alg) ||
				    semi - colon - 1 > 2 * IMA_MAX_DIGEST)
					goto bad;
				memcpy(mk->seg_alg, v, colon - v);
				memcpy(hex, colon + 1, semi - colon - 1);
				hex[semi - colon - 1] = '\0';
				n = ima_unhex(hex, mk->seg_digest, IMA_MAX_DIGEST);
				if (n <= 0 || 2 * n != semi - colon - 1)
					goto bad;
				mk->seg_len = n;
			}
			/* Unknown keys are for future extensions: skip them. */
		} else {
			char item[2 * IMA_MAX_DIGEST + 64];

			if (ilen >= sizeof(item) ||
			    mk->npcrs == (int)ARRAY_SIZE(mk->pcrs))
				goto bad;
			memcpy(item, p, ilen);
			item[ilen] = '\0';
			if (ima_pcr_item_parse(item, &mk->pcrs[mk->npcrs]))
				goto bad;
			mk->npcrs++;
		}
		p = semi + 1;
	}
	if (mk->attempts < 0 || mk->snapshots < 0 || mk->records < 0 ||
	    mk->seg_records < 0 || !mk->seg_len)
		goto bad;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int ima_rec_marker(const struct ima_rec *r, struct ima_marker *mk)
{
	struct ima_field f[4];

	if (!ima_rec_is_marker(r) || ima_rec_fields(r, f, 4) != 3) {
		errno = EINVAL;
		return -1;
	}
	return ima_marker_parse(f[2].data, f[2].len, mk);
}

const struct ima_marker_pcr *ima_marker_pcr_find(const struct ima_marker *mk,
						 const char *alg, int pcr)
{
	int i;

	for (i = 0; i < mk->npcrs; i++)
		if (mk->pcrs[i].pcr == pcr && !strcmp(mk->pcrs[i].alg, alg))
			return &mk->pcrs[i];
	return NULL;
}

const char *ima_saved_path(void)
{
	const char *p = getenv("IMATEST_SAVED");

	return p && *p ? p : "/tmp/ima-saved-snapshots.bin";
}

int ima_read_full_log(uint8_t **buf, size_t *len)
{
	uint8_t *saved = NULL, *live, *all;
	size_t slen = 0, llen;

	if (ima_read_file(ima_saved_path(), &saved, &slen)) {
		if (errno != ENOENT)
			return -1;
		saved = NULL;
		slen = 0;
	}
	if (ima_read_file(IMA_BINARY_LIST, &live, &llen)) {
		free(saved);
		return -1;
	}
	all = malloc(slen + llen + 1);
	if (!all) {
		free(saved);
		free(live);
		return -1;
	}
	if (slen)
		memcpy(all, saved, slen);
	memcpy(all + slen, live, llen);
	free(saved);
	free(live);
	*buf = all;
	*len = slen + llen;
	return 0;
}

/* --- snapshot clients ---------------------------------------------------- */

int ima_snapshot_open(int flags)
{
	int fd = open(IMA_SNAPSHOT, flags);

	return fd < 0 ? -errno : fd;
}

int ima_read_fd(int fd, uint8_t **buf, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	uint8_t *b = malloc(cap), *nb;
	ssize_t r;

	if (!b)
		return -ENOMEM;
	for (;;) {
		if (n == cap) {
			nb = realloc(b, cap *= 2);
			if (!nb) {
				free(b);
				return -ENOMEM;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0) {
			free(b);
			return -errno;
		}
		if (r == 0)
			break;
		n += r;
	}
	*buf = b;
	*len = n;
	return 0;
}

int ima_save_piece(const uint8_t *buf, size_t len)
{
	int fd = open(ima_saved_path(), O_WRONLY | O_CREAT | O_APPEND, 0600);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, buf, len) == (ssize_t)len && !fsync(fd);
	close(fd);
	return ok ? 0 : -1;
}

/*
 * Open, read everything, save it, finalize.  Returns 0 or -errno of the
 * step that failed; *piece gets the snapshot's bytes.
 */
int ima_take_snapshot(uint8_t **piece, size_t *plen)
{
	int fd = ima_snapshot_open(O_RDWR), rc;

	if (fd < 0)
		return fd;
	rc = ima_read_fd(fd, piece, plen);
	if (!rc && ima_save_piece(*piece, *plen))
		rc = -EIO;
	if (!rc && write(fd, "1", 1) != 1)
		rc = -errno;
	close(fd);
	return rc;
}

/* --- the snapshot agent and the log verifier ----------------------------- */

const char *ima_secfs_dir(void)
{
	const char *p = getenv("IMA_SECURITYFS");

	return p && *p ? p : IMA_SECFS;
}

int ima_secfs_path(char *out, size_t len, const char *file)
{
	int n = snprintf(out, len, "%s/%s", ima_secfs_dir(), file);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int parse_digits(const char *p, size_t n, unsigned long long *out)
{
	unsigned long long v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]) ||
		    v > (~0ULL - 9) / 10)
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return 0;
}

/* Exactly "piece-" 20 digits "-" 20 digits ".bin", START <= END. */
int ima_piece_name_parse(const char *name, unsigned long long *start,
			 unsigned long long *end)
{
	if (strlen(name) != 51 || strncmp(name, "piece-", 6) ||
	    name[26] != '-' || strcmp(name + 47, ".bin") ||
	    parse_digits(name + 6, 20, start) ||
	    parse_digits(name + 27, 20, end) || *start > *end)
		return -1;
	return 0;
}

static int piece_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ima_piece *)a)->name,
		      ((const struct ima_piece *)b)->name);
}

int ima_pieces_list(const char *dir, struct ima_piece **out)
{
	struct ima_piece *p = NULL, *np;
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0, cap = 0, err;
	size_t l;

	*out = NULL;
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		l = strlen(de->d_name);
		if (strncmp(de->d_name, "piece-", 6) || l < 10 ||
		    strcmp(de->d_name + l - 4, ".bin") ||
		    l >= sizeof(p->name))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			np = realloc(p, cap * sizeof(*p));
			if (!np) {
				err = ENOMEM;
				goto err;
			}
			p = np;
		}
		memset(&p[n], 0, sizeof(p[n]));
		memcpy(p[n].name, de->d_name, l + 1);
		p[n].named = !ima_piece_name_parse(p[n].name, &p[n].start,
						   &p[n].end);
		n++;
	}
	closedir(d);
	if (n)
		qsort(p, n, sizeof(*p), piece_cmp);
	*out = p;
	return n;
err:
	closedir(d);
	free(p);
	errno = err;
	return -1;
}

int ima_write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *b = buf;
	ssize_t w;

	while (len) {
		w = write(fd, b, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		b += w;
		len -= w;
	}
	return 0;
}

int ima_rec_is_violation(const struct ima_rec *r)
{
	static const uint8_t zero[IMA_SHA1_SIZE];

	return !memcmp(r->digest, zero, IMA_SHA1_SIZE);
}

void ima_rec_hash(const struct ima_rec *r, const void *md, uint8_t *out)
{
	hash(md, r->data, r->data_len, out);
}
