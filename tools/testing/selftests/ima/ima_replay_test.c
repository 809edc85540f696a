// SPDX-License-Identifier: GPL-2.0
/*
 * Replaying binary_runtime_measurements from zero gives the TPM's PCRs in
 * every active bank, and every record's sha1 template digest matches its
 * template data.  After snapshots, the saved pieces (ima_saved_path())
 * come first.
 */
#include <stdlib.h>
#include <string.h>

#include "../kselftest.h"
#include "imalog.h"

static int pcrs_now(struct ima_banks *bs, int pcr, uint8_t v[][IMA_MAX_DIGEST])
{
	int i;

	for (i = 0; i < bs->n; i++)
		if (ima_sysfs_pcr(bs->b[i].name, pcr, v[i], bs->b[i].len))
			return -1;
	return 0;
}

int main(void)
{
	uint8_t before[IMA_MAX_BANKS][IMA_MAX_DIGEST];
	uint8_t after[IMA_MAX_BANKS][IMA_MAX_DIGEST];
	char hex[2 * IMA_MAX_DIGEST + 1];
	struct ima_banks bs;
	struct ima_rec r;
	size_t len, off;
	uint8_t *buf = NULL;
	long bad = 0, n;
	int i, tries, stable = 0;

	ksft_print_header();
	if (access(IMA_BINARY_LIST, R_OK))
		ksft_exit_skip("no %s\n", IMA_BINARY_LIST);
	if (!ima_tpm_present()) {
		if (ima_tpm_required())
			ksft_exit_fail_msg("no TPM, but the harness attached one\n");
		ksft_exit_skip("no TPM: nothing to replay against\n");
	}
	if (ima_banks_from_tpm(&bs))
		ksft_exit_fail_msg("no PCR bank in %s\n", TPM_SYSFS);
	ksft_set_plan(1 + bs.n);

	/* PCR 10 read before and after the list: equal means they match. */
	for (tries = 0; tries < 5 && !stable; tries++) {
		free(buf);
		if (pcrs_now(&bs, 10, before))
			ksft_exit_fail_msg("cannot read PCR 10 from sysfs\n");
		if (ima_read_full_log(&buf, &len))
			ksft_exit_fail_perror("read " IMA_BINARY_LIST);
		if (pcrs_now(&bs, 10, after))
			ksft_exit_fail_msg("cannot read PCR 10 from sysfs\n");
		stable = !memcmp(before, after, sizeof(before));
	}
	if (!stable)
		ksft_exit_fail_msg("PCR 10 kept changing while reading the list\n");

	for (off = 0; ima_next_rec(buf, len, &off, &r) == 1; )
		if (ima_rec_check_digest(&r)) {
			char name[128];

			ima_rec_event_name(&r, name, sizeof(name));
			ksft_print_msg("bad template digest at offset %zu (%s)\n",
				       r.offset, name);
			bad++;
		}
	n = ima_banks_replay(&bs, buf, len);
	if (n < 0)
		ksft_exit_fail_msg("malformed list at byte %zu\n", off);
	ksft_print_msg("%ld records replayed\n", n);
	ksft_test_result(bad == 0, "every sha1 template digest matches its data\n");
	for (i = 0; i < bs.n; i++) {
		int ok = !memcmp(bs.b[i].pcr[10], after[i], bs.b[i].len);

		if (!ok) {
			ima_hex(bs.b[i].pcr[10], bs.b[i].len, hex);
			ksft_print_msg("replay %s: %s\n", bs.b[i].name, hex);
			ima_hex(after[i], bs.b[i].len, hex);
			ksft_print_msg("TPM    %s: %s\n", bs.b[i].name, hex);
		}
		ksft_test_result(ok, "replay equals PCR 10 in bank %s\n",
				 bs.b[i].name);
	}
	free(buf);
	ksft_finished();
}
