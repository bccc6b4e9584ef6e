// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Description: libFuzzer harness for the restart journal read back from
 * disk (common/journal.c), what a restarted daemon trusts from a file its
 * killed predecessor left: the input is the shared rsp_prod and req_prod
 * (4 bytes each), then the journal file's bytes, written to a file in a
 * tmpfs directory and reopened against one fixed ring identity (8 slots of
 * 112-byte blkif entries: a 1280-byte file).  A reopen refuses another
 * size or identity; a recovery that succeeds must owe only what it can:
 * at most nr_slots slots, each < nr_slots, none twice, in ring order with
 * distinct ring indexes below req_cons, exactly req_cons - rsp_prod of
 * them, req_prod at most nr_slots beyond req_cons; a second recovery owes
 * the same.  A refused recovery leaves the file unchanged.
 * Build: make fuzz-journal (clang); make fuzz runs every harness for a
 * while, make check for a few seconds (tests/sim/fuzz-smoke.sh).
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "pvcommon.h"
#include "fuzz-common.h"

#define SLOTS 8u
#define FILE_SIZE 1280u /* 256-byte header + 8 records of 16 + 112 bytes */

static const struct pv_journal_id jid = {
	.domid = 1, .evtchn = 5, .tag = 0, .nr_refs = 1, .refs = { 8 },
	.nr_slots = SLOTS, .ent_size = 112,
};
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/q0.journal", fuzz_tmpdir("fuzz-journal"));
	return 0;
}

static void write_file(const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, p, n) == (ssize_t)n);
	close(fd);
}

static void read_file(uint8_t *p)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(read(fd, p, FILE_SIZE) == FILE_SIZE);
	close(fd);
}

static void check_owed(const struct pv_journal *j, uint32_t rsp_prod, uint32_t req_prod,
		       uint32_t cons, const unsigned *slots, unsigned n)
{
	bool seen[SLOTS] = { false };
	uint32_t prev_age = 0;
	unsigned i;

	FUZZ_CHECK(n <= SLOTS);
	FUZZ_CHECK(cons - rsp_prod == n);
	FUZZ_CHECK(req_prod - cons <= SLOTS);
	for (i = 0; i < n; i++) {
		const uint8_t *ent;
		uint32_t req_idx, age;
		uint8_t sum = 0;
		unsigned b;

		FUZZ_CHECK(slots[i] < SLOTS && !seen[slots[i]]);
		seen[slots[i]] = true;
		/* struct j_slot (journal.c): state, req_idx, rsp_idx, len, entry. */
		ent = pv_journal_entry(j, slots[i]);
		memcpy(&req_idx, ent - 12, sizeof(req_idx));
		age = cons - 1 - req_idx;
		FUZZ_CHECK(i == 0 || age < prev_age); /* ring order, no index twice */
		prev_age = age;
		for (b = 0; b < jid.ent_size; b++) /* the whole entry is readable */
			sum ^= ent[b];
		(void)sum;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t before[FILE_SIZE], after[FILE_SIZE];
	struct fuzz_in in = { data, size };
	uint32_t rsp_prod = (uint32_t)fuzz_uint(&in, 4);
	uint32_t req_prod = (uint32_t)fuzz_uint(&in, 4), cons, cons2;
	unsigned slots[SLOTS], slots2[SLOTS], n, n2;
	struct pv_journal *j;
	int rc;

	write_file(in.p, in.n);
	rc = pv_journal_reopen(path, &jid, &j);
	if (rc < 0) {
		FUZZ_CHECK(rc == -ESTALE);
		return 0;
	}
	FUZZ_CHECK(in.n == FILE_SIZE);
	read_file(before);
	rc = pv_journal_recover(j, rsp_prod, req_prod, &cons, slots, &n);
	if (rc < 0) {
		FUZZ_CHECK(rc == -EUCLEAN);
		pv_journal_close(j, false);
		read_file(after);
		FUZZ_CHECK(!memcmp(before, after, FILE_SIZE));
		return 0;
	}
	check_owed(j, rsp_prod, req_prod, cons, slots, n);
	/* Killed again before anything moved: the same is owed. */
	pv_journal_close(j, false);
	FUZZ_CHECK(pv_journal_reopen(path, &jid, &j) == 0);
	FUZZ_CHECK(pv_journal_recover(j, rsp_prod, req_prod, &cons2, slots2, &n2) == 0);
	FUZZ_CHECK(cons2 == cons && n2 == n && !memcmp(slots, slots2, n * sizeof(slots[0])));
	pv_journal_close(j, false);
	return 0;
}
