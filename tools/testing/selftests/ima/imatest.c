// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the IMA snapshot selftests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest.h"
#include "imalog.h"
#include "imatest.h"

void ima_counters_read(struct ima_counters *c)
{
	long long again;
	int tries = 0;

	do {
		c->count = ima_read_ull(IMA_COUNT);
		c->in_memory = ima_read_ull(IMA_IN_MEMORY);
		c->bytes = ima_read_ull(IMA_IN_MEMORY_BYTES);
		c->trimmed = ima_read_ull(IMA_TRIMMED);
		c->snapshots = ima_read_ull(IMA_SNAPSHOT_COUNT);
		c->attempts = ima_read_ull(IMA_SNAPSHOT_ATTEMPTS);
		again = ima_read_ull(IMA_COUNT);
	} while (again != c->count && ++tries < 10);
}

int ima_counters_add_up(const struct ima_counters *c)
{
	return c->count >= 0 && c->count == c->in_memory + c->trimmed;
}

int ima_replay_matches(char *why, size_t whylen)
{
	uint8_t v[IMA_MAX_DIGEST], *buf;
	struct ima_banks bs;
	long recs;
	size_t len;
	int i;

	snprintf(why, whylen, "ok");
	if (!ima_tpm_present())
		return 1;
	if (ima_banks_from_tpm(&bs) || ima_read_full_log(&buf, &len)) {
		snprintf(why, whylen, "cannot read the banks or the log: %s",
			 strerror(errno));
		return 0;
	}
	recs = ima_banks_replay(&bs, buf, len);
	free(buf);
	if (recs < 0) {
		snprintf(why, whylen, "saved + live log is malformed");
		return 0;
	}
	for (i = 0; i < bs.n; i++) {
		if (ima_sysfs_pcr(bs.b[i].name, 10, v, bs.b[i].len) ||
		    memcmp(v, bs.b[i].pcr[10], bs.b[i].len)) {
			snprintf(why, whylen,
				 "replay of %ld records differs from PCR 10 in bank %s",
				 recs, bs.b[i].name);
			return 0;
		}
	}
	snprintf(why, whylen, "%ld records replay to PCR 10 in %d banks",
		 recs, bs.n);
	return 1;
}

long ima_gen_reads(const char *dir, const char *tag, long *serial, long n)
{
	char path[256], body[300], b;
	long i;
	int fd, len;

	for (i = 0; i < n; i++, (*serial)++) {
		snprintf(path, sizeof(path), "%s/%s-%ld", dir, tag, *serial);
		len = snprintf(body, sizeof(body), "%s %d\n", path, getpid());
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			return -1;
		if (write(fd, body, len) != len) {
			close(fd);
			return -1;
		}
		close(fd);
		fd = open(path, O_RDONLY);
		if (fd < 0 || read(fd, &b, 1) != 1) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
		close(fd);
		unlink(path);
	}
	return i;
}

const char *imatest_param(const char *name)
{
	static char cmdline[4096];
	char key[64], *p, *save;
	size_t klen;
	uint8_t *b;
	size_t n;

	if (ima_read_file("/proc/cmdline", &b, &n))
		return NULL;
	if (n >= sizeof(cmdline))
		n = sizeof(cmdline) - 1;
	memcpy(cmdline, b, n);
	cmdline[n] = '\0';
	free(b);
	klen = snprintf(key, sizeof(key), "imatest.%s=", name);
	for (p = strtok_r(cmdline, "\n ", &save); p;
	     p = strtok_r(NULL, "\n ", &save))
		if (!strncmp(p, key, klen))
			return p + klen;
	return NULL;
}

int imatest_off_kernel(void)
{
	const char *c = imatest_param("config");

	return c && !strcmp(c, "off");
}

int ima_reconcile_piece(const struct ima_counters *before,
			const uint8_t *piece, size_t plen)
{
	struct ima_counters after;
	long recs = ima_count_recs(piece, plen);

	ima_counters_read(&after);
	if (after.trimmed == before->trimmed)
		return 0;
	if (recs < 0 || after.trimmed != before->trimmed + recs)
		return -1;
	return ima_save_piece(piece, plen) ? -1 : 1;
}

void imatest_require_snapshots(void)
{
	if (access(IMA_BINARY_LIST, R_OK))
		ksft_exit_skip("no %s\n", IMA_BINARY_LIST);
	if (access(IMA_SNAPSHOT, F_OK)) {
		if (imatest_off_kernel())
			ksft_exit_skip("CONFIG_IMA_LOG_SNAPSHOT is off\n");
		ksft_exit_fail_msg("no %s: CONFIG_IMA_LOG_SNAPSHOT is off?\n",
				   IMA_SNAPSHOT);
	}
	if (!ima_tpm_present() && ima_tpm_required())
		ksft_exit_fail_msg("no TPM, but the harness attached one\n");
}
