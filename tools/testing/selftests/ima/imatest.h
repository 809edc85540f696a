/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the IMA snapshot selftests (not by the agent and the
 * verifier, which use imalog.h only).
 */
#ifndef IMATEST_H
#define IMATEST_H

#include <stddef.h>
#include <stdint.h>

/* The counters in <securityfs>/ima (CONFIG_IMA_LOG_SNAPSHOT). */
struct ima_counters {
	long long count, in_memory, bytes, trimmed, snapshots, attempts;
};

/*
 * Read every counter; retried until runtime_measurements_count did not
 * move meanwhile, so that count = in_memory + trimmed can be checked.
 */
void ima_counters_read(struct ima_counters *c);
/* runtime_measurements_count = in memory + trimmed. */
int ima_counters_add_up(const struct ima_counters *c);

/*
 * Replay the saved pieces (ima_saved_path()) followed by the live binary
 * list and compare with PCR 10 in every bank of the TPM: 1 if they match
 * (or there is no TPM), 0 otherwise, with the reason in @why.
 */
int ima_replay_matches(char *why, size_t whylen);

/*
 * Add @n records: write, read (as root) and unlink @n new files in @dir
 * on the ramfs root, which the harness's ima_policy=tcb measures.  The
 * files are named @dir/@tag-<i> for i counting from *@serial.
 * Returns the number of files read, or -1.
 */
long ima_gen_reads(const char *dir, const char *tag, long *serial, long n);

/*
 * For the tests of the snapshot file, after ksft_print_header(): SKIP
 * without IMA or on a kernel booted with imatest.config=off, fail without
 * <securityfs>/ima/snapshot elsewhere, and fail without a TPM when the
 * harness says it attached one (imatest.tpm=required).
 */
void imatest_require_snapshots(void);

/* A parameter imatest.@name=<value> of the kernel command line, or NULL. */
const char *imatest_param(const char *name);
/* The kernel was booted with imatest.config=off. */
int imatest_off_kernel(void);

/*
 * For tests where a finalizing write may be refused, or its writer
 * killed: @piece is what was read from the snapshot file, @before the
 * counters before the write.  If runtime_measurements_trimmed moved by
 * the records of @piece, the kernel trimmed them: append @piece to
 * ima_saved_path(), so that saved + live still replays.  Returns 1 if
 * the piece was trimmed and saved, 0 if nothing was trimmed, -1 if the
 * counter moved by anything else (or the piece could not be saved).
 */
int ima_reconcile_piece(const struct ima_counters *before,
			const uint8_t *piece, size_t plen);

#endif
