// SPDX-License-Identifier: GPL-2.0
/*
 * runtime_measurements_count equals the number of records in
 * binary_runtime_measurements and ascii_runtime_measurements, plus, with
 * CONFIG_IMA_LOG_SNAPSHOT, the records trimmed since cold boot.
 */
#include <stdlib.h>
#include <string.h>

#include "../kselftest.h"
#include "imalog.h"

static long ascii_lines(void)
{
	uint8_t *buf;
	size_t len, i;
	long n = 0;

	if (ima_read_file(IMA_ASCII_LIST, &buf, &len))
		return -1;
	for (i = 0; i < len; i++)
		n += buf[i] == '\n';
	free(buf);
	return n;
}

int main(void)
{
	long long before, after, trimmed = 0;
	long bin = -1, ascii = -1;
	size_t len;
	uint8_t *buf;
	int tries;

	ksft_print_header();
	if (access(IMA_COUNT, R_OK))
		ksft_exit_skip("no %s\n", IMA_COUNT);
	ksft_set_plan(2);

	/* Nothing this test does is measured, but retry if something else was. */
	for (tries = 0; tries < 5; tries++) {
		before = ima_read_ull(IMA_COUNT);
		if (ima_read_file(IMA_BINARY_LIST, &buf, &len))
			ksft_exit_fail_perror("read " IMA_BINARY_LIST);
		bin = ima_count_recs(buf, len);
		free(buf);
		ascii = ascii_lines();
		if (!access(IMA_TRIMMED, R_OK))
			trimmed = ima_read_ull(IMA_TRIMMED);
		after = ima_read_ull(IMA_COUNT);
		if (before == after)
			break;
	}
	if (trimmed) {
		ksft_print_msg("%lld records were trimmed\n", trimmed);
		after -= trimmed;
		before -= trimmed;
	}
	ksft_print_msg("count %lld, binary records %ld, ascii lines %ld\n",
		       after, bin, ascii);
	ksft_test_result(before == after && bin == after,
			 "runtime_measurements_count equals binary records\n");
	ksft_test_result(before == after && ascii == after,
			 "runtime_measurements_count equals ascii lines\n");
	ksft_finished();
}
