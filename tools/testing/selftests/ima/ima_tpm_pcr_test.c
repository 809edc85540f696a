// SPDX-License-Identifier: GPL-2.0
/*
 * PCR 10 read from the TPM through tpm2-tss (ESAPI Esys_PCR_Read over
 * /dev/tpmrm0) equals PCR 10 as the kernel shows it in
 * /sys/class/tpm/tpm0/pcr-<alg>/10, in the sha1 and sha256 banks.
 */
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_tcti_device.h>

#include "../kselftest.h"
#include "imalog.h"

static ESYS_CONTEXT *esys_open(void)
{
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *ctx;
	size_t size = 0;

	if (Tss2_Tcti_Device_Init(NULL, &size, NULL))
		return NULL;
	tcti = calloc(1, size);
	if (!tcti || Tss2_Tcti_Device_Init(tcti, &size, "/dev/tpmrm0"))
		return NULL;
	if (Esys_Initialize(&ctx, tcti, NULL))
		return NULL;
	return ctx;
}

static int esys_pcr(ESYS_CONTEXT *ctx, TPM2_ALG_ID alg, int pcr,
		    uint8_t *out, unsigned int len)
{
	TPML_PCR_SELECTION sel = {
		.count = 1,
		.pcrSelections[0] = { .hash = alg, .sizeofSelect = 3 },
	};
	TPML_PCR_SELECTION *osel = NULL;
	TPML_DIGEST *vals = NULL;
	UINT32 counter;
	int rc = -1;

	sel.pcrSelections[0].pcrSelect[pcr / 8] = 1 << (pcr % 8);
	if (Esys_PCR_Read(ctx, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
			  &sel, &counter, &osel, &vals))
		return -1;
	if (vals->count == 1 && vals->digests[0].size == len) {
		memcpy(out, vals->digests[0].buffer, len);
		rc = 0;
	}
	Esys_Free(osel);
	Esys_Free(vals);
	return rc;
}

int main(void)
{
	static const struct { const char *name; TPM2_ALG_ID alg; unsigned int len; } banks[] = {
		{ "sha1", TPM2_ALG_SHA1, 20 },
		{ "sha256", TPM2_ALG_SHA256, 32 },
	};
	uint8_t a[IMA_MAX_DIGEST], t[IMA_MAX_DIGEST], b[IMA_MAX_DIGEST];
	char hex[2 * IMA_MAX_DIGEST + 1];
	ESYS_CONTEXT *ctx;
	unsigned int i;
	int tries, ok;

	ksft_print_header();
	if (!ima_tpm_present() || access("/dev/tpmrm0", R_OK | W_OK)) {
		if (ima_tpm_required())
			ksft_exit_fail_msg("no TPM, but the harness attached one\n");
		ksft_exit_skip("no TPM (/dev/tpmrm0)\n");
	}
	ctx = esys_open();
	if (!ctx)
		ksft_exit_fail_msg("Esys_Initialize on /dev/tpmrm0 failed\n");
	ksft_set_plan(ARRAY_SIZE(banks));

	for (i = 0; i < ARRAY_SIZE(banks); i++) {
		char path[64];

		snprintf(path, sizeof(path), TPM_SYSFS "/pcr-%s", banks[i].name);
		if (access(path, F_OK)) {
			ksft_test_result_skip("bank %s is not active\n", banks[i].name);
			continue;
		}
		ok = 0;
		/* sysfs, ESAPI, sysfs: a measurement in between retries. */
		for (tries = 0; tries < 5 && !ok; tries++) {
			if (ima_sysfs_pcr(banks[i].name, 10, a, banks[i].len) ||
			    esys_pcr(ctx, banks[i].alg, 10, t, banks[i].len) ||
			    ima_sysfs_pcr(banks[i].name, 10, b, banks[i].len))
				break;
			if (memcmp(a, b, banks[i].len))
				continue;
			ok = !memcmp(a, t, banks[i].len);
			if (!ok)
				break;
		}
		if (!ok) {
			ima_hex(t, banks[i].len, hex);
			ksft_print_msg("Esys_PCR_Read %s: %s\n", banks[i].name, hex);
			ima_hex(b, banks[i].len, hex);
			ksft_print_msg("sysfs         %s: %s\n", banks[i].name, hex);
		}
		ksft_test_result(ok, "PCR 10 through ESAPI equals sysfs, bank %s\n",
				 banks[i].name);
	}
	Esys_Finalize(&ctx);
	ksft_finished();
}
