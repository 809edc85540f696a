// SPDX-License-Identifier: GPL-2.0
/*
 * IMA found the TPM (it is not in TPM-bypass mode) and the measurement list
 * starts with a boot_aggregate whose digest is not all zeros.
 */
#include <stdlib.h>
#include <string.h>

#include "../kselftest.h"
#include "imalog.h"

int main(void)
{
	static const uint8_t zero[IMA_MAX_DIGEST];
	struct ima_field f[4];
	struct ima_rec r;
	size_t len, off = 0;
	uint8_t *buf;
	char name[64];
	const uint8_t *d;
	int n;

	ksft_print_header();
	if (access(IMA_BINARY_LIST, R_OK))
		ksft_exit_skip("no %s (IMA disabled or securityfs not mounted)\n",
			       IMA_BINARY_LIST);
	if (!ima_tpm_present()) {
		if (ima_tpm_required())
			ksft_exit_fail_msg("no TPM, but the harness attached one\n");
		ksft_exit_skip("no TPM on this machine\n");
	}
	ksft_set_plan(3);

	if (ima_read_file(IMA_BINARY_LIST, &buf, &len))
		ksft_exit_fail_perror("read " IMA_BINARY_LIST);
	if (ima_next_rec(buf, len, &off, &r) != 1)
		ksft_exit_fail_msg("the measurement list is empty or malformed\n");

	ima_rec_event_name(&r, name, sizeof(name));
	ksft_test_result(!strcmp(name, "boot_aggregate") &&
			 r.pcr == 10, "first record is boot_aggregate on PCR 10 (got '%s' on %u)\n",
			 name, r.pcr);
	ksft_test_result(ima_rec_check_digest(&r) == 0,
			 "boot_aggregate template digest matches its data\n");

	/* d-ng field: "<alg>:\0" followed by the digest. */
	n = ima_rec_fields(&r, f, 4);
	d = n >= 1 ? memchr(f[0].data, '\0', f[0].len) : NULL;
	ksft_test_result(d && (size_t)(f[0].data + f[0].len - d - 1) > 0 &&
			 memcmp(d + 1, zero, f[0].data + f[0].len - d - 1),
			 "boot_aggregate digest is not zero (IMA is not in TPM-bypass mode)\n");
	free(buf);
	ksft_finished();
}
