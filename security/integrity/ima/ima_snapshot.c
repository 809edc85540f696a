// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright (C) 2026 IMA snapshot developers
 *
 * IMA measurement list snapshots: move the head of the measurement list
 * out of kernel memory without breaking remote attestation.
 *
 * Opening <securityfs>/ima/snapshot appends a "snapshot_aggregate" record
 * (the marker) that holds the values of the PCRs IMA extends, read while
 * ima_extend_list_mutex is held, so that they are exactly the aggregate of
 * the records before the marker.  Reading the same file descriptor
 * returns those records in the binary_runtime_measurements format.
 * Writing to it trims them: they leave the list and the hash table and
 * their memory is freed.  Closing it without writing trims nothing.
 *
 * Locking and lifetime rules, which every reader of ima_measurements
 * relies on once the list can shrink:
 *
 * - ima_extend_list_mutex serializes every change of the list: appending
 *   a record (ima_link_digest_entry()), appending the marker together with
 *   the PCR read that fills it, and unlinking a trimmed prefix.
 *
 * - A trim only ever removes a prefix of the list, the records before a
 *   marker, and only the holder of the (exclusive) snapshot file trims.
 *   The prefix is unlinked with one pointer update, so a reader walking
 *   it under RCU still reaches the marker through next pointers that
 *   nobody changes, and new readers start at the marker.  The entries are
 *   removed from the hash table in bounded batches and freed only after a
 *   grace period, outside the mutex: the mutex hold time does not depend
 *   on how many records are trimmed.
 *
 * - Readers of the measurement files hold rcu_read_lock() from ->start()
 *   to ->stop() of their seq_file.  Their position counts records from
 *   the head of the list when they read, mapped to sequence numbers that
 *   count records since cold boot, so a trim between two read() calls
 *   neither skips nor repeats records: a reader whose next record was
 *   trimmed gets -ESTALE, and a reader past the trimmed records goes on.
 *   A reader that has not been given a record yet starts at the head as
 *   it is when it reads.
 *
 * - The marker records no event: if the TPM cannot be extended with it,
 *   it is better not to add it than to leave a record the TPM never saw.
 *   So, unlike measurements, it is extended into the TPM before it is
 *   linked into the list, and its queue entry is allocated before the
 *   mutex is taken, so that nothing can fail after the extend.
 *
 * - The kexec dump (ima_kexec.c) and trimming exclude each other: once
 *   the dump started, markers and trims are refused with -ECANCELED.
 */

#include <linux/capability.h>
#include <linux/ctype.h>
#include <linux/fault-inject.h>
#include <linux/fs.h>
#include <linux/rculist.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <crypto/hash.h>

#include "ima.h"

static const char snapshot_aggregate_name[] = "snapshot_aggregate";

/* Records unhashed per ima_extend_list_mutex hold when trimming. */
#define IMA_TRIM_BATCH		256

/* The IMA PCRs the marker may hold: the TPM has 24. */
#define IMA_SNAPSHOT_MAX_PCRS	24

/* Set while the snapshot file is open: only its holder adds markers. */
static unsigned long ima_snapshot_busy;

/*
 * Protected by ima_extend_list_mutex; read locklessly only where noted.
 *
 * @next_seq:	number of records since cold boot (sequence of the next)
 * @next_offset: binary_runtime_measurements bytes of the records added
 *		since this kernel booted, restored ones included; only
 *		differences of offsets are used
 * @pcr_mask:	PCRs extended by the records since cold boot
 * @last_marker: sequence number of the latest marker plus one, 0 if none
 * @last_marker_qe: the latest marker, if it is in the list.  Only the
 *		snapshot file holder adds markers and trims, and it trims
 *		only records before its own marker, the latest: so the
 *		holder may walk the list from here under RCU.
 * @kexec_started: the list is being copied for the next kernel
 */
static u64 ima_next_seq;
static u64 ima_next_offset;
static u64 ima_pcr_mask;
static u64 ima_last_marker;
static struct ima_queue_entry *ima_last_marker_qe;
static bool ima_kexec_started;

/* Counters shown in securityfs; changed under ima_extend_list_mutex. */
static atomic64_t ima_records_in_memory = ATOMIC64_INIT(0);
static atomic64_t ima_bytes_in_memory = ATOMIC64_INIT(0);
static atomic64_t ima_records_trimmed = ATOMIC64_INIT(0);
static atomic64_t ima_snapshots_finalized = ATOMIC64_INIT(0);
static atomic64_t ima_snapshot_attempts = ATOMIC64_INIT(0);

static bool ima_snapshot_all_pcrs __ro_after_init;

/*
 * CONFIG_IMA_LOG_SNAPSHOT_STATS: the cost of the last marker and trim.
 * Written only by the snapshot file holder.
 */
static struct {
	u64 marker_hold_ns;		/* ima_extend_list_mutex held */
	u64 marker_total_ns;
	u64 marker_tpm_cmds;		/* PCR reads and the extend */
	u64 trim_records;
	u64 trim_holds;			/* times the mutex was taken */
	u64 trim_hold_max_ns;		/* the longest of those holds */
	u64 trim_total_ns;		/* including the grace period */
} ima_snapshot_stats;

static u64 ima_stats_now(void)
{
	return IS_ENABLED(CONFIG_IMA_LOG_SNAPSHOT_STATS) ? ktime_get_ns() : 0;
}

static void ima_stats_hold(u64 start)
{
	u64 held = ima_stats_now() - start;

	ima_snapshot_stats.trim_holds++;
	if (held > ima_snapshot_stats.trim_hold_max_ns)
		ima_snapshot_stats.trim_hold_max_ns = held;
}

static int __init ima_snapshot_pcrs_setup(char *str)
{
	if (!strcmp(str, "all"))
		ima_snapshot_all_pcrs = true;
	else if (strcmp(str, "ima"))
		pr_err("ima_snapshot_pcrs=%s: use \"ima\" or \"all\"\n", str);
	return 1;
}
__setup("ima_snapshot_pcrs=", ima_snapshot_pcrs_setup);

/**
 * ima_snapshot_track_entry - number a record about to join the list
 * @qe: the queue entry, not yet linked
 * @size: its size in the binary_runtime_measurements format
 *
 * Called with ima_extend_list_mutex held, before @qe is published, for
 * every record: measured, restored after kexec, or a marker.
 */
void ima_snapshot_track_entry(struct ima_queue_entry *qe, unsigned long size)
{
	lockdep_assert_held(&ima_extend_list_mutex);

	/* Entries that do not go into the hash table must look unhashed. */
	INIT_HLIST_NODE(&qe->hnext);
	qe->seq = ima_next_seq++;
	qe->offset = ima_next_offset;
	ima_next_offset += size;
	if (qe->entry->pcr >= 0 && qe->entry->pcr < 64)
		WRITE_ONCE(ima_pcr_mask,
			   ima_pcr_mask | BIT_ULL(qe->entry->pcr));
	atomic64_inc(&ima_records_in_memory);
	atomic64_add(size, &ima_bytes_in_memory);
}

/* --- readers of the measurement list ---------------------------------- */

/*
 * Per open file state of a measurement list reader.
 * @base:	sequence number of position 0 (the head when the first entry
 *		was returned)
 * @end:	sequence number to stop before (U64_MAX: the end of the list)
 * @cache:	last entry returned, a hint only: it may have been trimmed
 *		and freed, and is dereferenced only when still in the list
 * @cache_seq:	its sequence number
 * @started:	an entry was returned: @base is fixed
 */
struct ima_list_iter {
	u64 base;
	u64 end;
	struct ima_queue_entry *cache;
	u64 cache_seq;
	bool started;
};

static struct ima_queue_entry *ima_list_first_rcu(void)
{
	return list_first_or_null_rcu(&ima_measurements,
				      struct ima_queue_entry, later);
}

static u64 ima_list_head_seq(void)
{
	struct ima_queue_entry *first;
	u64 seq;

	rcu_read_lock();
	first = ima_list_first_rcu();
	seq = first ? first->seq : READ_ONCE(ima_next_seq);
	rcu_read_unlock();
	return seq;
}

static void ima_list_iter_init(struct ima_list_iter *it, u64 base, u64 end)
{
	it->base = base;
	it->end = end;
	it->cache = NULL;
	it->started = false;
}

/**
 * ima_list_seq_open - open a measurement list file for reading
 * @file: the file
 * @ops: its seq_file operations, which must use ima_list_seq_start(),
 *	 ima_list_seq_next() and ima_list_seq_stop()
 *
 * Positions count records from the head of the list when the first
 * record is read; a record trimmed after that is reported as -ESTALE,
 * never skipped.
 *
 * Return: 0 or a negative errno.
 */
int ima_list_seq_open(struct file *file, const struct seq_operations *ops)
{
	struct ima_list_iter *it;

	it = __seq_open_private(file, ops, sizeof(*it));
	if (!it)
		return -ENOMEM;
	ima_list_iter_init(it, ima_list_head_seq(), U64_MAX);
	return 0;
}

/**
 * ima_list_seq_release - release a file opened by ima_list_seq_open()
 * @inode: its inode
 * @file: the file
 *
 * Return: 0.
 */
int ima_list_seq_release(struct inode *inode, struct file *file)
{
	return seq_release_private(inode, file);
}

/**
 * ima_list_seq_start - seq_file ->start() for the measurement list
 * @m: the seq_file
 * @pos: records from the head of the list when the first was read
 *
 * Takes the RCU read lock, which ima_list_seq_stop() releases: the
 * entries returned stay valid until then, even if they are trimmed.
 *
 * Return: the entry, NULL at the end, or ERR_PTR(-ESTALE) if the record
 * at @pos was trimmed.
 */
void *ima_list_seq_start(struct seq_file *m, loff_t *pos)
	__acquires(RCU)
{
	struct ima_list_iter *it = m->private;
	struct ima_queue_entry *qe, *first;
	u64 target = it->base + *pos;

	rcu_read_lock();
	first = ima_list_first_rcu();
	if (!first)
		return NULL;
	if (target < first->seq) {
		if (it->started)
			return ERR_PTR(-ESTALE);
		/* Nothing was returned yet: count from the head as it is now. */
		it->base = first->seq;
		target = it->base + *pos;
	}
	if (target >= it->end)
		return NULL;

	/*
	 * Resume from the cached entry when it is still in the list: the
	 * list held it when the head was read above, and whatever trims it
	 * now waits for this RCU read-side critical section before freeing.
	 */
	qe = first;
	if (it->cache && it->cache_seq >= first->seq &&
	    it->cache_seq <= target)
		qe = it->cache;
	list_for_each_entry_from_rcu(qe, &ima_measurements, later) {
		if (qe->seq == target) {
			it->cache = qe;
			it->cache_seq = qe->seq;
			it->started = true;
			return qe;
		}
	}
	return NULL;
}

/**
 * ima_list_seq_next - seq_file ->next() for the measurement list
 * @m: the seq_file
 * @v: the current entry
 * @pos: advanced by one
 *
 * Return: the next entry, or NULL at the end.
 */
void *ima_list_seq_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct ima_list_iter *it = m->private;
	struct ima_queue_entry *qe = v;

	(*pos)++;
	/* A trimmed entry's next pointer still leads to the list. */
	qe = list_next_or_null_rcu(&ima_measurements, &qe->later,
				   struct ima_queue_entry, later);
	if (!qe || qe->seq >= it->end)
		return NULL;
	it->cache = qe;
	it->cache_seq = qe->seq;
	return qe;
}

/**
 * ima_list_seq_stop - seq_file ->stop() for the measurement list
 * @m: the seq_file
 * @v: the current entry
 */
void ima_list_seq_stop(struct seq_file *m, void *v)
	__releases(RCU)
{
	rcu_read_unlock();
}

/* --- trimming ----------------------------------------------------------- */

/**
 * ima_snapshot_kexec_start - the measurement list is being copied for kexec
 *
 * From now on no marker is added and nothing is trimmed, so the copy the
 * next kernel gets is the list userspace last saw.
 */
void ima_snapshot_kexec_start(void)
{
	mutex_lock(&ima_extend_list_mutex);
	WRITE_ONCE(ima_kexec_started, true);
	mutex_unlock(&ima_extend_list_mutex);
}

/*
 * Remove every record before @marker from the list and the hash table and
 * free them.  Only the snapshot file holder calls this, so @marker and
 * the records before it cannot change under it.  Nothing here allocates:
 * once the kexec check passed, the trim cannot fail half-way.
 */
static int ima_snapshot_trim(struct ima_queue_entry *marker, u64 *trimmed)
{
	struct ima_queue_entry *first, *qe, *next;
	u64 n, bytes, i, b, start, held;

	start = ima_stats_now();
	memset(&ima_snapshot_stats.trim_records, 0,
	       sizeof(ima_snapshot_stats) -
	       offsetof(typeof(ima_snapshot_stats), trim_records));
	mutex_lock(&ima_extend_list_mutex);
	held = ima_stats_now();
	if (ima_kexec_started) {
		mutex_unlock(&ima_extend_list_mutex);
		return -ECANCELED;
	}
	first = list_first_entry(&ima_measurements, struct ima_queue_entry,
				 later);
	n = marker->seq - first->seq;
	bytes = marker->offset - first->offset;
	if (n) {
		/*
		 * One store unlinks first..marker->prev for new readers.  The
		 * next pointers inside the prefix stay as they are until a
		 * grace period has passed, so RCU walkers already in it still
		 * reach the marker.
		 */
		rcu_assign_pointer(list_next_rcu(&ima_measurements),
				   &marker->later);
		marker->later.prev = &ima_measurements;

		ima_sub_binary_runtime_size(bytes);
		atomic64_sub(n, &ima_records_in_memory);
		atomic64_sub(bytes, &ima_bytes_in_memory);
		atomic64_add(n, &ima_records_trimmed);
	}
	atomic64_inc(&ima_snapshots_finalized);
	ima_stats_hold(held);
	mutex_unlock(&ima_extend_list_mutex);

	/*
	 * Unhash in batches, so that measurements wait at most one batch.
	 * Until its record is unhashed, a measurement with the same digest
	 * is still found and not added again: it is in the snapshot.
	 * Entries restored after kexec, markers, and every entry when the
	 * hash table is disabled were never hashed.  Once unhashed, a new
	 * measurement with the same digest is added to the list again.
	 */
	qe = first;
	for (i = 0; !IS_ENABLED(CONFIG_IMA_DISABLE_HTABLE) && i < n; ) {
		mutex_lock(&ima_extend_list_mutex);
		held = ima_stats_now();
		for (b = 0; b < IMA_TRIM_BATCH && i < n; b++, i++) {
			if (!hlist_unhashed(&qe->hnext))
				hlist_del_rcu(&qe->hnext);
			qe = list_entry(qe->later.next, struct ima_queue_entry,
					later);
		}
		ima_stats_hold(held);
		mutex_unlock(&ima_extend_list_mutex);
		cond_resched();
	}

	/* No list or hash table walker can still see the prefix after this. */
	synchronize_rcu();

	qe = first;
	for (i = 0; i < n; i++) {
		next = list_entry(qe->later.next, struct ima_queue_entry, later);
		ima_free_template_entry(qe->entry);
		kfree(qe);
		qe = next;
		if (!(i % IMA_TRIM_BATCH))
			cond_resched();
	}
	ima_snapshot_stats.trim_records = n;
	ima_snapshot_stats.trim_total_ns = ima_stats_now() - start;
	*trimmed = n;
	return 0;
}

/* --- the snapshot_aggregate marker -------------------------------------- */

/*
 * Per open file state of the snapshot file.
 * @it:		the iterator over the records before the marker; first, as
 *		the seq_file operations take m->private as an ima_list_iter
 * @marker:	the marker this file added
 * @delivered:	bytes returned to userspace by read() from offset 0 on,
 *		without a gap
 * @read_all:	a read() at @delivered returned end of file: userspace
 *		has been given every record before the marker
 * @finalized:	the records before the marker were trimmed
 *
 * @delivered, @read_all and @finalized are protected by the seq_file's
 * m->lock.
 */
struct ima_snapshot {
	struct ima_list_iter it;
	struct ima_queue_entry *marker;
	loff_t delivered;
	bool read_all;
	bool finalized;
};

static const char *ima_bank_name(int bank, char *buf, size_t len)
{
	u16 crypto_id = ima_tpm_chip->allocated_banks[bank].crypto_id;

	if (crypto_id < HASH_ALGO__LAST)
		return hash_algo_name[crypto_id];
	snprintf(buf, len, "tpm_alg_%04x",
		 ima_tpm_chip->allocated_banks[bank].alg_id);
	return buf;
}

/* The counters and the segment digest at the start of the marker's text. */
#define IMA_MARKER_HEAD	"Snapshot_Attempt_Count=%llu;Snapshot_Count=%llu;" \
			"Measurement_Count=%llu;Segment_Count=%llu;" \
			"Segment_Digest=%s:%*phN;"

/* Bytes the marker's text needs, with its NUL, for @npcrs PCRs per bank. */
static size_t ima_marker_buf_size(int npcrs)
{
	/* The format, longer than its conversions, plus what they print. */
	size_t head = sizeof(IMA_MARKER_HEAD) + 4 * 20 +
		      strlen(hash_algo_name[ima_hash_algo]) +
		      2 * HASH_MAX_DIGESTSIZE;
	/* "<alg or tpm_alg_xxxx, at most 16>:PCRnn:<hex digest>;" */
	size_t item = 24 + 2 * HASH_MAX_DIGESTSIZE;

	return head + NR_BANKS(ima_tpm_chip) * npcrs * item;
}

/*
 * <debugfs>/fail_ima_snapshot_tpm (CONFIG_FAULT_INJECTION_DEBUG_FS) makes
 * the PCR reads of the marker fail, as a failing TPM would, for tests.
 */
static DECLARE_FAULT_ATTR(ima_snapshot_fail_tpm);

/* Read one PCR for the marker. */
static int ima_snapshot_pcr_read(u32 pcr, struct tpm_digest *d)
{
	if (should_fail(&ima_snapshot_fail_tpm, 1))
		return -EIO;
	return tpm_pcr_read(ima_tpm_chip, pcr, d);
}

/*
 * Fill @buf with the marker's text.  Called with ima_extend_list_mutex
 * held: the PCRs read here are the aggregate of the list up to now.
 * Return: the length of the text, or a negative errno.
 */
static int ima_marker_format(char *buf, size_t size, u64 pcrs,
			     u64 seg_records, const u8 *seg_digest)
{
	char name[16];
	size_t len;
	int bank, pcr, rc;

	len = scnprintf(buf, size, IMA_MARKER_HEAD,
			(u64)atomic64_read(&ima_snapshot_attempts) + 1,
			(u64)atomic64_read(&ima_snapshots_finalized), ima_next_seq,
			seg_records, hash_algo_name[ima_hash_algo],
			hash_digest_size[ima_hash_algo], seg_digest);

	for (bank = 0; bank < NR_BANKS(ima_tpm_chip); bank++) {
		struct tpm_digest d = {
			.alg_id = ima_tpm_chip->allocated_banks[bank].alg_id,
		};
		u16 dsize = ima_tpm_chip->allocated_banks[bank].digest_size;

		for (pcr = 0; pcr < IMA_SNAPSHOT_MAX_PCRS; pcr++) {
			if (!(pcrs & BIT_ULL(pcr)))
				continue;
			rc = ima_snapshot_pcr_read(pcr, &d);
			ima_snapshot_stats.marker_tpm_cmds++;
			if (rc) {
				pr_err("snapshot: reading PCR %d failed: %d\n",
				       pcr, rc);
				return rc < 0 ? rc : -EIO;
			}
			len += scnprintf(buf + len, size - len, "%s:PCR%d:%*phN;",
					 ima_bank_name(bank, name, sizeof(name)),
					 pcr, dsize, d.digest);
		}
	}
	if (len >= size - 1)
		return -EOVERFLOW;
	return len;
}

/*
 * Add to @desc the template digests of the records after *@last (from the
 * head of the list if NULL) up to the end of the list that follow the
 * previous marker, advancing *@last.  Only the snapshot file holder calls
 * this, and only it trims, so *@last stays valid between calls.  With
 * @resched the walk leaves its RCU read-side critical section now and
 * then to reschedule: not under ima_extend_list_mutex, where the walk
 * covers only the records added since the last call, and measurements
 * wait for it.
 */
static int ima_segment_hash(struct shash_desc *desc,
			    struct ima_queue_entry **last, u64 *count,
			    bool resched)
{
	struct ima_queue_entry *qe;
	unsigned int n = 0;
	int rc = 0;

	rcu_read_lock();
	qe = *last;
	if (qe)
		qe = list_next_or_null_rcu(&ima_measurements, &qe->later,
					   struct ima_queue_entry, later);
	else
		qe = ima_list_first_rcu();
	while (qe) {
		if (qe->seq >= ima_last_marker) {
			u8 *digest = qe->entry->digests[ima_hash_algo_idx].digest;

			rc = crypto_shash_update(desc, digest,
						 hash_digest_size[ima_hash_algo]);
			if (rc)
				break;
			(*count)++;
		}
		*last = qe;
		if (resched && !(++n % IMA_TRIM_BATCH)) {
			rcu_read_unlock();
			cond_resched();
			rcu_read_lock();
		}
		qe = list_next_or_null_rcu(&ima_measurements, &qe->later,
					   struct ima_queue_entry, later);
	}
	rcu_read_unlock();
	return rc;
}

/*
 * Append the marker.  Everything that allocates or grows with the list
 * is done before ima_extend_list_mutex is taken: the template entry is
 * allocated with room for the longest text, the queue entry too, and the
 * digest of the segment (the records since the previous marker) is
 * computed up to the current tail.  Under the mutex only the records
 * added since, the PCR reads, the marker's own digests and the extend
 * remain.  The marker is linked into the list only once the TPM was
 * extended with it, and nothing can fail after that: when open fails,
 * neither the list nor the TPM changed (unless the TPM executed an
 * extend whose response was lost).
 */
static int ima_snapshot_add_marker(struct ima_snapshot *s)
{
	struct crypto_shash *tfm = ima_algo_array[ima_hash_algo_idx].tfm;
	struct ima_template_entry *entry = NULL;
	struct ima_max_digest_data hash;
	struct ima_digest_data *hash_hdr = container_of(&hash.hdr,
						struct ima_digest_data, hdr);
	struct ima_iint_cache iint = { .ima_hash = hash_hdr };
	struct ima_event_data event_data = { .iint = &iint,
					     .filename = snapshot_aggregate_name };
	struct ima_queue_entry *qe = NULL, *last;
	u8 seg_digest[HASH_MAX_DIGESTSIZE];
	const char *cause = "ENOMEM";
	struct shash_desc *desc;
	u64 pcrs, seg_records, start, held = 0;
	size_t size, off;
	char *buf = NULL;
	int len, rc;
	char tpm_cause[AUDIT_CAUSE_LEN_MAX];

	start = ima_stats_now();
	ima_snapshot_stats.marker_tpm_cmds = 0;
	rc = -ENOMEM;
	desc = kzalloc(sizeof(*desc) + crypto_shash_descsize(tfm), GFP_KERNEL);
	qe = kmalloc(sizeof(*qe), GFP_KERNEL);
	if (!desc || !qe)
		goto out;
	desc->tfm = tfm;

again:
	pcrs = READ_ONCE(ima_pcr_mask) & GENMASK_ULL(IMA_SNAPSHOT_MAX_PCRS - 1, 0);
	if (ima_snapshot_all_pcrs)
		pcrs = GENMASK_ULL(IMA_SNAPSHOT_MAX_PCRS - 1, 0);
	size = ima_marker_buf_size(hweight64(pcrs));
	buf = kzalloc(size, GFP_KERNEL);
	rc = -ENOMEM;
	if (!buf)
		goto out;

	/* The template entry, with room for the longest text. */
	memset(&hash, 0, sizeof(hash));
	hash.hdr.algo = ima_hash_algo;
	hash.hdr.length = hash_digest_size[ima_hash_algo];
	event_data.buf = buf;
	event_data.buf_len = size;
	rc = ima_alloc_init_template(&event_data, &entry,
				     ima_template_desc_buf());
	if (rc < 0) {
		entry = NULL;
		goto out;
	}

	/*
	 * Hash the segment so far without holding up measurements, from the
	 * previous marker on: only this file's holder adds markers or trims,
	 * so that marker stays in the list.
	 */
	rc = crypto_shash_init(desc);
	last = ima_last_marker_qe;
	seg_records = 0;
	if (!rc)
		rc = ima_segment_hash(desc, &last, &seg_records, true);
	cause = "hashing_error";
	if (rc)
		goto out;

	mutex_lock(&ima_extend_list_mutex);
	held = ima_stats_now();
	if ((ima_pcr_mask & ~pcrs) & GENMASK_ULL(IMA_SNAPSHOT_MAX_PCRS - 1, 0) &&
	    !ima_snapshot_all_pcrs) {
		/* A record extended a new PCR meanwhile: size again. */
		mutex_unlock(&ima_extend_list_mutex);
		ima_free_template_entry(entry);
		entry = NULL;
		kfree(buf);
		buf = NULL;
		ima_snapshot_stats.marker_tpm_cmds = 0;
		goto again;
	}
	rc = -ECANCELED;
	cause = "kexec_in_progress";
	if (ima_kexec_started)
		goto out_unlock;

	/* The list cannot change now: hash what was added meanwhile. */
	rc = ima_segment_hash(desc, &last, &seg_records, false);
	if (!rc)
		rc = crypto_shash_final(desc, seg_digest);
	cause = "hashing_error";
	if (rc)
		goto out_unlock;

	len = ima_marker_format(entry->template_data[2].data, size, pcrs,
				seg_records, seg_digest);
	rc = len;
	cause = len == -EOVERFLOW ? "buffer_overflow" : "tpm_pcr_read";
	if (len < 0)
		goto out_unlock;

	/*
	 * Shrink the buf field to the text, and digest it with the tfm IMA
	 * keeps allocated: ima_calc_buffer_hash() may take the ahash path
	 * (ima.ahash_minsize), which allocates and waits.
	 */
	entry->template_data_len -= entry->template_data[2].len - len;
	entry->template_data[2].len = len;
	rc = crypto_shash_tfm_digest(tfm, entry->template_data[2].data, len,
				     hash.digest);
	cause = "hashing_error";
	if (rc)
		goto out_unlock;
	/*
	 * The d-ng field is "<algo>:\0<digest>" (ima_eventdigest_init_common(),
	 * a format verifiers parse): it was allocated with a zero digest.
	 */
	off = strlen(hash_algo_name[ima_hash_algo]) + 2;
	rc = -EINVAL;
	if (WARN_ON_ONCE(entry->template_data[0].len !=
			 off + hash_digest_size[ima_hash_algo]))
		goto out_unlock;
	memcpy(entry->template_data[0].data + off, hash.digest,
	       hash_digest_size[ima_hash_algo]);
	rc = ima_calc_field_array_hash(&entry->template_data[0], entry);
	if (rc)
		goto out_unlock;
	entry->pcr = CONFIG_IMA_MEASURE_PCR_IDX;

	rc = ima_pcr_extend(entry->digests, entry->pcr);
	ima_snapshot_stats.marker_tpm_cmds += !!ima_tpm_chip;
	if (rc) {
		snprintf(tpm_cause, sizeof(tpm_cause), "TPM_error(%d)", rc);
		cause = tpm_cause;
		rc = rc < 0 ? rc : -EIO;
		goto out_unlock;
	}

	/* No measurement can have its digest: keep it out of the hash table. */
	ima_link_digest_entry(qe, entry, false);
	s->marker = qe;
	ima_last_marker_qe = qe;
	ima_last_marker = qe->seq + 1;
	atomic64_inc(&ima_snapshot_attempts);
	ima_list_iter_init(&s->it, list_first_entry(&ima_measurements,
						    struct ima_queue_entry,
						    later)->seq, qe->seq);
	qe = NULL;		/* owned by the list now, with entry */
	entry = NULL;
	cause = "snapshot_added";
out_unlock:
	ima_snapshot_stats.marker_hold_ns = ima_stats_now() - held;
	mutex_unlock(&ima_extend_list_mutex);
	ima_snapshot_stats.marker_total_ns = ima_stats_now() - start;
out:
	integrity_audit_msg(AUDIT_INTEGRITY_PCR, NULL, snapshot_aggregate_name,
			    "snapshot", cause, rc, rc == 0);
	if (entry)
		ima_free_template_entry(entry);
	kfree(qe);
	kfree(buf);
	kfree(desc);
	return rc;
}

/* --- kexec --------------------------------------------------------------- */

/**
 * ima_snapshot_kexec_reserve - room for a marker added after kexec load
 *
 * The kexec segment for the measurement list is sized at load time and
 * filled at execute time.  A trim in between only shrinks the list, but
 * a snapshot opened in between adds a marker, which can be larger than
 * the half page of slack kept for other measurements: reserve room for
 * one.
 *
 * Return: the size of the largest marker record, in bytes.
 */
unsigned long ima_snapshot_kexec_reserve(void)
{
	u64 pcrs = READ_ONCE(ima_pcr_mask);

	if (ima_snapshot_all_pcrs)
		pcrs = GENMASK_ULL(IMA_SNAPSHOT_MAX_PCRS - 1, 0);
	/* pcr, digest, template name, d-ng and n-ng fields: 256 bytes */
	return 256 + ima_marker_buf_size(hweight64(pcrs));
}

/* What the next kernel takes over from a restored marker. */
struct ima_marker_info {
	u64 attempts;		/* Snapshot_Attempt_Count */
	u64 snapshots;		/* Snapshot_Count */
	u64 records;		/* Measurement_Count */
	u64 pcrs;		/* the PCRs it holds values of */
};

static bool __init ima_marker_item_u64(const char *item, const char *key,
				       u64 *val)
{
	size_t len = strlen(key);

	return !strncmp(item, key, len) && !kstrtou64(item + len, 10, val);
}

/* Is @p[0..@len) "<alg>:PCR<n>:<hex>"?  Its PCR index in *@index. */
static bool __init ima_marker_pcr_item(const char *p, size_t len,
				       unsigned int *index)
{
	const char *end = p + len, *c = memchr(p, ':', len);
	unsigned int n = 0, digits = 0;

	if (!c || c == p || end - c < 7 || strncmp(c, ":PCR", 4))
		return false;
	for (c += 4; c < end && isdigit(*c) && digits < 2; c++, digits++)
		n = n * 10 + *c - '0';
	if (!digits || c == end || *c++ != ':' || c == end || (end - c) % 2)
		return false;
	for (; c < end; c++)
		if (!isxdigit(*c))
			return false;
	*index = n;
	return true;
}

/*
 * Parse a restored record as a marker, strictly: its buffer must be made
 * of the items "<key>=<value>;" and "<alg>:PCR<n>:<hex>;" in printable
 * ASCII, as this code writes them.  A record of another kind can have the
 * same event name (a key measured from a keyring named snapshot_aggregate,
 * whose buffer is a binary certificate): it must not set the counters.
 * Unknown keys are skipped, as the grammar in
 * Documentation/security/IMA-snapshot.rst promises.
 * Return: 1 if @qe is a well-formed snapshot_aggregate record, 0 if it
 * is another record, -EINVAL if it is a malformed snapshot_aggregate.
 */
static int __init ima_marker_parse(struct ima_queue_entry *qe,
				   struct ima_marker_info *mi)
{
	struct ima_template_entry *e = qe->entry;
	unsigned int found = 0, index;
	const char *p, *end, *semi;
	char item[48];
	size_t len;

	if (e->pcr != CONFIG_IMA_MEASURE_PCR_IDX ||
	    strcmp(e->template_desc->name, "ima-buf") ||
	    e->template_desc->num_fields != 3 ||
	    e->template_data[1].len != sizeof(snapshot_aggregate_name) ||
	    memcmp(e->template_data[1].data, snapshot_aggregate_name,
		   sizeof(snapshot_aggregate_name)))
		return 0;

	memset(mi, 0, sizeof(*mi));
	p = (const char *)e->template_data[2].data;
	end = p + e->template_data[2].len;
	for (semi = p; semi < end; semi++)
		if (!isgraph(*semi))
			return -EINVAL;
	while (p < end) {
		semi = memchr(p, ';', end - p);
		if (!semi)
			return -EINVAL;
		len = semi - p;
		if (ima_marker_pcr_item(p, len, &index)) {
			if (index < IMA_SNAPSHOT_MAX_PCRS)
				mi->pcrs |= BIT_ULL(index);
		} else if (len < sizeof(item)) {
			memcpy(item, p, len);
			item[len] = '\0';
			if (ima_marker_item_u64(item, "Snapshot_Attempt_Count=",
						&mi->attempts))
				found |= BIT(0);
			else if (ima_marker_item_u64(item, "Snapshot_Count=",
						     &mi->snapshots))
				found |= BIT(1);
			else if (ima_marker_item_u64(item, "Measurement_Count=",
						     &mi->records))
				found |= BIT(2);
		}
		p = semi + 1;
	}
	return found == GENMASK(2, 0) ? 1 : -EINVAL;
}

/**
 * ima_snapshot_restored - take over the counters of the previous kernel
 *
 * Called once the measurement list handed over by kexec is restored,
 * before anything else is measured.  When the previous kernel trimmed the
 * list, it starts with the finalized marker, whose Measurement_Count is
 * the number of records before it since cold boot: number the restored
 * records from there, and count the ones before it as trimmed, so that
 * runtime_measurements_count still counts since cold boot.  The snapshot
 * counters come from the latest marker whose count matches its place, and
 * the PCRs such markers hold stay in every later marker, even when no
 * record in memory extends them any more.  The kexec buffer format
 * (version 1) is unchanged.
 */
void __init ima_snapshot_restored(void)
{
	u64 attempts = 0, snapshots = 0, shift = 0;
	struct ima_marker_info mi;
	struct ima_queue_entry *qe;
	int rc;

	mutex_lock(&ima_extend_list_mutex);
	qe = list_first_entry_or_null(&ima_measurements,
				      struct ima_queue_entry, later);
	if (qe && ima_marker_parse(qe, &mi) > 0) {
		if (mi.records > LONG_MAX / 2) {
			pr_warn("snapshot: restored marker counts %llu records, ignored\n",
				mi.records);
		} else {
			shift = mi.records;
			attempts = mi.attempts;
			/* Trimming it is what made it the head. */
			snapshots = mi.snapshots + 1;
		}
	}
	list_for_each_entry(qe, &ima_measurements, later) {
		qe->seq += shift;
		rc = ima_marker_parse(qe, &mi);
		if (rc < 0) {
			pr_warn("snapshot: malformed restored snapshot_aggregate record %llu\n",
				qe->seq);
			continue;
		}
		if (!rc || mi.records != qe->seq)
			continue;
		ima_pcr_mask |= mi.pcrs;
		attempts = max(attempts, mi.attempts);
		snapshots = max(snapshots, mi.snapshots);
		ima_last_marker = qe->seq + 1;
		ima_last_marker_qe = qe;
	}
	ima_next_seq += shift;
	atomic_long_add(shift, &ima_htable.len);
	atomic64_set(&ima_records_trimmed, shift);
	atomic64_set(&ima_snapshots_finalized, snapshots);
	atomic64_set(&ima_snapshot_attempts, attempts);
	mutex_unlock(&ima_extend_list_mutex);
	if (shift)
		pr_info("snapshot: %llu records since boot were trimmed before kexec\n",
			shift);
}

/* --- <securityfs>/ima/snapshot ------------------------------------------ */

static const struct seq_operations ima_snapshot_seqops = {
	.start = ima_list_seq_start,
	.next = ima_list_seq_next,
	.stop = ima_list_seq_stop,
	.show = ima_measurements_show,
};

static int ima_snapshot_open(struct inode *inode, struct file *file)
{
	struct ima_snapshot *s;
	int rc;

	/* ima_list_seq_start() and _next() take m->private as the iterator. */
	BUILD_BUG_ON(offsetof(struct ima_snapshot, it) != 0);

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	/*
	 * Once the list is being copied for kexec no snapshot can be taken;
	 * say so before -EBUSY, which would invite the caller to retry.
	 * Checked again under the mutex when the marker is added.
	 */
	if (READ_ONCE(ima_kexec_started))
		return -ECANCELED;
	if (test_and_set_bit_lock(0, &ima_snapshot_busy))
		return -EBUSY;

	s = __seq_open_private(file, &ima_snapshot_seqops, sizeof(*s));
	rc = -ENOMEM;
	if (!s)
		goto out_busy;
	rc = ima_snapshot_add_marker(s);
	if (rc)
		goto out_release;
	return 0;

out_release:
	seq_release_private(inode, file);
out_busy:
	clear_bit_unlock(0, &ima_snapshot_busy);
	return rc;
}

/*
 * seq_read(), plus the bookkeeping that tells whether userspace was given
 * every record before the marker.  Only bytes that reached userspace
 * count: lseek() and pread() past data that was never read do not, and
 * neither do reads on a file opened without read access.
 */
static ssize_t ima_snapshot_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	struct seq_file *m = file->private_data;
	struct ima_snapshot *s = m->private;
	loff_t pos = *ppos;
	ssize_t rc;

	rc = seq_read(file, ubuf, count, ppos);
	if (rc < 0 || !count)
		return rc;

	mutex_lock(&m->lock);
	if (pos <= s->delivered) {
		if (rc)
			s->delivered = max(s->delivered, pos + rc);
		else if (pos == s->delivered)
			s->read_all = true;
	}
	mutex_unlock(&m->lock);
	return rc;
}

/*
 * Any non-empty write finalizes the snapshot: the records before the
 * marker are trimmed.  Refused unless this file was read to the end, so
 * that a client cannot trim what it did not save.
 */
static ssize_t ima_snapshot_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	struct seq_file *m = file->private_data;
	struct ima_snapshot *s = m->private;
	char cause[40];
	u64 trimmed = 0;
	ssize_t rc;

	if (!count)
		return -EINVAL;

	/* Serializes with read() and write() on this file (fork, SCM_RIGHTS). */
	mutex_lock(&m->lock);
	if (s->finalized)
		rc = -EALREADY;
	else if (!s->read_all)
		rc = -ENODATA;
	else
		rc = ima_snapshot_trim(s->marker, &trimmed);
	if (!rc)
		s->finalized = true;
	mutex_unlock(&m->lock);

	/* Records leave kernel memory: say so, as their addition was. */
	if (!rc)
		snprintf(cause, sizeof(cause), "trimmed_%llu_records", trimmed);
	else
		snprintf(cause, sizeof(cause), "%s", rc == -ECANCELED ?
			 "kexec_in_progress" : rc == -EALREADY ?
			 "already_finalized" : "snapshot_not_read");
	integrity_audit_msg(AUDIT_INTEGRITY_STATUS, NULL,
			    snapshot_aggregate_name, "snapshot_finalize",
			    cause, rc, rc == 0);
	return rc ? rc : count;
}

static int ima_snapshot_release(struct inode *inode, struct file *file)
{
	int rc = seq_release_private(inode, file);

	clear_bit_unlock(0, &ima_snapshot_busy);
	return rc;
}

static const struct file_operations ima_snapshot_ops = {
	.open = ima_snapshot_open,
	.read = ima_snapshot_read,
	.write = ima_snapshot_write,
	.llseek = seq_lseek,
	.release = ima_snapshot_release,
};

/* --- counters ----------------------------------------------------------- */

static ssize_t ima_snapshot_counter_read(struct file *file, char __user *buf,
					 size_t count, loff_t *ppos)
{
	atomic64_t *counter = file_inode(file)->i_private;
	char tmp[32];
	int len;

	len = scnprintf(tmp, sizeof(tmp), "%llu\n", (u64)atomic64_read(counter));
	return simple_read_from_buffer(buf, count, ppos, tmp, len);
}

static const struct file_operations ima_snapshot_counter_ops = {
	.read = ima_snapshot_counter_read,
	.llseek = generic_file_llseek,
};

struct ima_snapshot_counter {
	const char *name;
	atomic64_t *counter;
};

static const struct ima_snapshot_counter ima_snapshot_counters[] __initconst = {
	{ "runtime_measurements_in_memory", &ima_records_in_memory },
	{ "runtime_measurements_in_memory_bytes", &ima_bytes_in_memory },
	{ "runtime_measurements_trimmed", &ima_records_trimmed },
	{ "snapshot_count", &ima_snapshots_finalized },
	{ "snapshot_attempt_count", &ima_snapshot_attempts },
};

static int ima_snapshot_stats_show(struct seq_file *m, void *v)
{
	seq_printf(m, "marker_hold_ns %llu\nmarker_total_ns %llu\n",
		   ima_snapshot_stats.marker_hold_ns,
		   ima_snapshot_stats.marker_total_ns);
	seq_printf(m, "marker_tpm_commands %llu\ntrim_records %llu\n",
		   ima_snapshot_stats.marker_tpm_cmds,
		   ima_snapshot_stats.trim_records);
	seq_printf(m, "trim_mutex_holds %llu\ntrim_hold_max_ns %llu\n",
		   ima_snapshot_stats.trim_holds,
		   ima_snapshot_stats.trim_hold_max_ns);
	seq_printf(m, "trim_total_ns %llu\n", ima_snapshot_stats.trim_total_ns);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(ima_snapshot_stats);

/**
 * ima_snapshot_fs_init - create the snapshot file and its counters
 * @ima_dir: <securityfs>/ima
 *
 * Return: 0 or a negative errno.
 */
int __init ima_snapshot_fs_init(struct dentry *ima_dir)
{
	const struct ima_snapshot_counter *c;
	struct dentry *dentry;
	int i;

	dentry = securityfs_create_file("snapshot", 0600, ima_dir,
					(void *)(uintptr_t)ima_sha1_idx,
					&ima_snapshot_ops);
	if (IS_ERR(dentry))
		return PTR_ERR(dentry);

	for (i = 0; i < ARRAY_SIZE(ima_snapshot_counters); i++) {
		c = &ima_snapshot_counters[i];
		dentry = securityfs_create_file(c->name, 0440, ima_dir,
						c->counter,
						&ima_snapshot_counter_ops);
		if (IS_ERR(dentry))
			return PTR_ERR(dentry);
	}
	/* A test facility only: without it, snapshots work all the same. */
	fault_create_debugfs_attr("fail_ima_snapshot_tpm", NULL,
				  &ima_snapshot_fail_tpm);
	if (IS_ENABLED(CONFIG_IMA_LOG_SNAPSHOT_STATS)) {
		dentry = securityfs_create_file("snapshot_stats", 0440, ima_dir,
						NULL, &ima_snapshot_stats_fops);
		if (IS_ERR(dentry))
			return PTR_ERR(dentry);
	}
	return 0;
}
