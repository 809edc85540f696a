/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Parse and replay IMA binary measurement lists (the format of
 * <securityfs>/ima/binary_runtime_measurements), for the IMA selftests and
 * the reference verifier.
 */
#ifndef IMALOG_H
#define IMALOG_H

#include <stddef.h>
#include <stdint.h>

#define IMA_SECFS		"/sys/kernel/security/ima"
#define IMA_BINARY_LIST		IMA_SECFS "/binary_runtime_measurements"
#define IMA_ASCII_LIST		IMA_SECFS "/ascii_runtime_measurements"
#define IMA_COUNT		IMA_SECFS "/runtime_measurements_count"
#define TPM_SYSFS		"/sys/class/tpm/tpm0"

#define IMA_PCRS		24
#define IMA_MAX_DIGEST		64
#define IMA_SHA1_SIZE		20
#define IMA_MAX_BANKS		8

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif

/* One record of a binary list; pointers point into the list buffer. */
struct ima_rec {
	uint32_t pcr;
	const uint8_t *digest;		/* sha1 template digest, 20 bytes */
	const char *tname;		/* template name, not NUL-terminated */
	uint32_t tname_len;
	const uint8_t *data;		/* template data */
	uint32_t data_len;
	size_t offset;			/* of the record in the list */
	size_t size;			/* of the whole record */
};

/* One template data field (ima-ng, ima-buf, ...: u32 length + bytes). */
struct ima_field {
	const uint8_t *data;
	uint32_t len;
};

/* A PCR bank being replayed. */
struct ima_bank {
	char name[16];			/* TPM sysfs name: sha1, sha256, ... */
	const void *md;			/* OpenSSL EVP_MD */
	unsigned int len;
	uint8_t pcr[IMA_PCRS][IMA_MAX_DIGEST];
	uint32_t used;			/* bit n: PCR n was extended */
};

struct ima_banks {
	int n;
	struct ima_bank b[IMA_MAX_BANKS];
};

/* Read a whole file (securityfs files have no useful st_size). */
int ima_read_file(const char *path, uint8_t **buf, size_t *len);

/*
 * Parse the record at *off.  Returns 1 and advances *off, 0 at the end,
 * -1 on a malformed record (with errno EINVAL).
 */
int ima_next_rec(const uint8_t *buf, size_t len, size_t *off,
		 struct ima_rec *r);
int ima_rec_is(const struct ima_rec *r, const char *tname);
/* Split template data into fields; returns the number found or -1. */
int ima_rec_fields(const struct ima_rec *r, struct ima_field *f, int max);
/* The event name (second field of ima-ng/ima-buf), NUL-terminated copy. */
void ima_rec_event_name(const struct ima_rec *r, char *out, size_t outlen);
/* Count records; -1 if malformed. */
long ima_count_recs(const uint8_t *buf, size_t len);

/* Banks: from the TPM's sysfs (every active bank), or by name. */
int ima_banks_from_tpm(struct ima_banks *bs);
int ima_bank_add(struct ima_banks *bs, const char *name);
void ima_banks_reset(struct ima_banks *bs);
/* Check a record's sha1 template digest against its data: 0 if good. */
int ima_rec_check_digest(const struct ima_rec *r);
/* Extend every bank with a record, as the kernel does. */
void ima_banks_extend(struct ima_banks *bs, const struct ima_rec *r);
/*
 * The same, and if @td is not NULL store in td[i] the template digest in
 * bank i's algorithm (hash of the template data; all-zero for a violation),
 * as the kernel keeps it in entry->digests[].
 */
void ima_banks_extend_digests(struct ima_banks *bs, const struct ima_rec *r,
			      uint8_t td[][IMA_MAX_DIGEST]);
/* The bank of that name, or NULL. */
struct ima_bank *ima_bank_find(struct ima_banks *bs, const char *name);
/* Replay a whole list onto the banks; returns records or -1. */
long ima_banks_replay(struct ima_banks *bs, const uint8_t *buf, size_t len);

/* PCR value from /sys/class/tpm/tpm0/pcr-<alg>/<n>. */
int ima_sysfs_pcr(const char *alg, int pcr, uint8_t *out, unsigned int len);
/* Parse hex; returns bytes or -1. */
int ima_unhex(const char *hex, uint8_t *out, size_t outlen);
void ima_hex(const uint8_t *in, size_t len, char *out);
/* Read a decimal number from a securityfs file. */
long long ima_read_ull(const char *path);

/* The snapshot_aggregate marker (CONFIG_IMA_LOG_SNAPSHOT). */
#define IMA_SNAPSHOT		IMA_SECFS "/snapshot"
#define IMA_IN_MEMORY		IMA_SECFS "/runtime_measurements_in_memory"
#define IMA_IN_MEMORY_BYTES	IMA_SECFS "/runtime_measurements_in_memory_bytes"
#define IMA_TRIMMED		IMA_SECFS "/runtime_measurements_trimmed"
#define IMA_SNAPSHOT_COUNT	IMA_SECFS "/snapshot_count"
#define IMA_SNAPSHOT_ATTEMPTS	IMA_SECFS "/snapshot_attempt_count"

struct ima_marker_pcr {
	char alg[16];
	int pcr;
	uint8_t value[IMA_MAX_DIGEST];
	unsigned int len;
};

struct ima_marker {
	long long attempts;		/* Snapshot_Attempt_Count */
	long long snapshots;		/* Snapshot_Count */
	long long records;		/* Measurement_Count */
	long long seg_records;		/* Segment_Count */
	char seg_alg[16];		/* Segment_Digest algorithm */
	uint8_t seg_digest[IMA_MAX_DIGEST];
	unsigned int seg_len;
	int npcrs;
	struct ima_marker_pcr pcrs[IMA_PCRS * IMA_MAX_BANKS];
};

/* Is this record a snapshot_aggregate marker? */
int ima_rec_is_marker(const struct ima_rec *r);
/* Parse a marker's buffer (its third field); 0 or -1 with errno EINVAL. */
int ima_marker_parse(const uint8_t *buf, size_t len, struct ima_marker *mk);
int ima_rec_marker(const struct ima_rec *r, struct ima_marker *mk);
/* The marker's value of PCR @pcr in bank @alg, or NULL. */
const struct ima_marker_pcr *ima_marker_pcr_find(const struct ima_marker *mk,
						 const char *alg, int pcr);
/*
 * Parse one NUL-terminated "<alg>:PCR<n>:<hex>" item (no ";"), as in the
 * marker's buffer: 0, or -1 with errno EINVAL.
 */
int ima_pcr_item_parse(const char *item, struct ima_marker_pcr *mp);

/*
 * Snapshots the tests finalized are appended to this file (or
 * $IMATEST_SAVED), so that later tests can replay saved + live list.
 */
const char *ima_saved_path(void);
/* The saved pieces followed by the live binary list. */
int ima_read_full_log(uint8_t **buf, size_t *len);

/* open(IMA_SNAPSHOT, flags): the fd or -errno. */
int ima_snapshot_open(int flags);
/* Read an fd to its end into a malloc'd buffer: 0 or -errno. */
int ima_read_fd(int fd, uint8_t **buf, size_t *len);
/* Append a piece to ima_saved_path() and fsync it: 0 or -1. */
int ima_save_piece(const uint8_t *buf, size_t len);
/*
 * Open, read everything, save it, finalize.  Returns 0 or -errno of the
 * step that failed; *piece gets the snapshot's bytes.
 */
int ima_take_snapshot(uint8_t **piece, size_t *plen);

/* A TPM is present and IMA is not in TPM-bypass mode. */
int ima_tpm_present(void);
/*
 * The harness always attaches a TPM and says so with
 * imatest.tpm=required on the kernel command line; there a missing TPM is
 * a failure, elsewhere a SKIP.
 */
int ima_tpm_required(void);

/* --- the snapshot agent and the log verifier ----------------------------- */

/* <securityfs>/ima, or $IMA_SECURITYFS (tests point it at fake files). */
const char *ima_secfs_dir(void);
/* ima_secfs_dir() + "/" + @file into @out: 0, or -1 if it does not fit. */
int ima_secfs_path(char *out, size_t len, const char *file);

/* A saved piece: piece-<START>-<END>.bin, records START to END - 1. */
#define IMA_PIECE_FMT		"piece-%020llu-%020llu.bin"

struct ima_piece {
	char name[256];
	unsigned long long start, end;
	int named;			/* the name follows IMA_PIECE_FMT */
};

/* Parse a piece file name (no directory): 0, or -1 if not IMA_PIECE_FMT. */
int ima_piece_name_parse(const char *name, unsigned long long *start,
			 unsigned long long *end);
/*
 * The files piece-*.bin of @dir sorted by name (which is by START for
 * names that follow IMA_PIECE_FMT).  Returns their number (*out malloc'd,
 * may be NULL when 0), or -1 with errno.
 */
int ima_pieces_list(const char *dir, struct ima_piece **out);

/* write() all of @buf, retrying on EINTR and short writes: 0 or -1. */
int ima_write_all(int fd, const void *buf, size_t len);
/* A violation: listed with an all-zero sha1 template digest. */
int ima_rec_is_violation(const struct ima_rec *r);
/* Hash the record's template data with an OpenSSL EVP_MD. */
void ima_rec_hash(const struct ima_rec *r, const void *md, uint8_t *out);

#endif
