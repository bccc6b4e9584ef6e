// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * In-flight journal of a queue: what a daemon killed without warning
 * (SIGKILL, a crash, the OOM killer) leaves for its successor so that no
 * request the frontend pushed is lost or answered twice.
 *
 * The frontend knows only the shared indexes: req_prod (its) and rsp_prod
 * (ours, as pushed).  Our req_cons and the set of requests consumed but not
 * yet answered live in the daemon, and out-of-order completion means the
 * ring slots between rsp_prod and req_prod no longer say which requests
 * are still owed (a response overwrites a request slot).  So each queue
 * keeps, in a small file mapped MAP_SHARED (under /run: it survives the
 * process, not a reboot, as the rings do), one record per request slot:
 *
 *   consumed:  the raw ring entry (our private copy), the ring index it was
 *              taken from, state INFLIGHT; then the header's req_cons.
 *   answered:  once the response is written into the ring, the response
 *              index, state ANSWERED; the slot is reused only after the
 *              response was pushed (queue.c), so an ANSWERED record whose
 *              response index lies below the shared rsp_prod was seen by
 *              the frontend and one at or above it was not.
 *   released:  after the push, state FREE.
 *
 * The records are plain stores into shared memory: a killed process loses
 * nothing it stored, so the only windows are between stores, and recovery
 * below covers each one (a record INFLIGHT before the header's req_cons
 * moved: req_cons is the maximum; a response written but the record still
 * INFLIGHT: its response was not pushed, re-issue).  The successor re-issues
 * every INFLIGHT record and every ANSWERED one not visible, in ring order,
 * and goes on consuming at req_cons.  Re-issuing is safe: the frontend
 * keeps a request's pages granted and unchanged until it sees the response,
 * a read reads again and a write writes the same data again.
 *
 * Protocol-neutral: a record holds any ring entry up to PV_JOURNAL_MAX_ENT
 * bytes (a usbif urb request is 148, a blkif one 112), rounded up with its
 * 16-byte header to a multiple of 64.  Used by common/queue.c, one journal
 * per journalled ring; knows nothing about hv, rings or threads
 * (unit-tested on plain files).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pvcommon.h"

#define J_MAGIC   0x6c6e726a71727670ull /* "pvrqjrnl" */
#define J_VERSION 2u

enum { J_FREE = 0, J_INFLIGHT = 1, J_ANSWERED = 2 };

struct j_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t hdr_size;
	struct pv_journal_id id;
	uint32_t rec_size; /* bytes per record: header + entry, a multiple of 64 */
	uint32_t req_cons; /* next request to consume */
};

struct j_slot {
	uint32_t state;
	uint32_t req_idx; /* ring index the request was consumed from */
	uint32_t rsp_idx; /* ring index of its response (ANSWERED) */
	uint32_t len;     /* bytes of ent used */
	uint8_t ent[];    /* the raw ring entry, as copied out once */
};

struct pv_journal {
	struct j_hdr *hdr;
	uint8_t *recs;
	size_t rec_size;
	size_t size;
	char *path;
};

#define J_SLOTS_OFF 256u
_Static_assert(sizeof(struct j_hdr) <= J_SLOTS_OFF, "journal header fits");
_Static_assert(sizeof(struct j_slot) == 16, "journal record header");

static size_t rec_size(uint32_t ent_size)
{
	return (sizeof(struct j_slot) + ent_size + 63) & ~(size_t)63;
}

static size_t j_size(const struct pv_journal_id *id)
{
	return J_SLOTS_OFF + (size_t)id->nr_slots * rec_size(id->ent_size);
}

static struct j_slot *rec(const struct pv_journal *j, unsigned slot)
{
	return (struct j_slot *)(j->recs + (size_t)slot * j->rec_size);
}

static int j_map(const char *path, int fd, size_t size, struct pv_journal **out)
{
	struct pv_journal *j = calloc(1, sizeof(*j));
	void *m;

	if (!j)
		return -ENOMEM;
	j->path = strdup(path);
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (!j->path || m == MAP_FAILED) {
		int rc = m == MAP_FAILED ? -errno : -ENOMEM;

		if (m != MAP_FAILED)
			munmap(m, size);
		free(j->path);
		free(j);
		return rc;
	}
	j->hdr = m;
	j->recs = (uint8_t *)m + J_SLOTS_OFF;
	j->size = size;
	*out = j;
	return 0;
}

int pv_journal_create(const char *path, const struct pv_journal_id *id, struct pv_journal **out)
{
	size_t size;
	int fd, rc;

	if (!id->nr_slots || !id->ent_size || id->ent_size > PV_JOURNAL_MAX_ENT ||
	    id->nr_refs > PV_RING_MAX_PAGES)
		return -EINVAL;
	size = j_size(id);
	/* A new file, not a rewrite in place: a predecessor's mapping (if one
	 * still lived) keeps the old inode. */
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = j_map(path, fd, size, out);
	if (rc < 0)
		goto fail;
	close(fd);
	(*out)->rec_size = rec_size(id->ent_size);
	(*out)->hdr->id = *id;
	(*out)->hdr->rec_size = (uint32_t)(*out)->rec_size;
	(*out)->hdr->hdr_size = (uint32_t)sizeof(struct j_hdr);
	(*out)->hdr->version = J_VERSION;
	__atomic_store_n(&(*out)->hdr->magic, J_MAGIC, __ATOMIC_RELEASE);
	return 0;
fail:
	close(fd);
	unlink(path);
	return rc;
}

int pv_journal_reopen(const char *path, const struct pv_journal_id *id, struct pv_journal **out)
{
	struct pv_journal *j;
	struct stat st;
	size_t size;
	int fd, rc;

	if (!id->nr_slots || !id->ent_size || id->ent_size > PV_JOURNAL_MAX_ENT)
		return -EINVAL;
	size = j_size(id);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size != size) {
		close(fd);
		return -ESTALE;
	}
	rc = j_map(path, fd, size, &j);
	close(fd);
	if (rc < 0)
		return rc;
	j->rec_size = rec_size(id->ent_size);
	if (j->hdr->magic != J_MAGIC || j->hdr->version != J_VERSION ||
	    j->hdr->hdr_size != sizeof(struct j_hdr) || j->hdr->rec_size != j->rec_size ||
	    memcmp(&j->hdr->id, id, sizeof(*id))) {
		pv_journal_close(j, false);
		return -ESTALE;
	}
	*out = j;
	return 0;
}

void pv_journal_close(struct pv_journal *j, bool remove)
{
	if (!j)
		return;
	if (remove)
		unlink(j->path);
	munmap(j->hdr, j->size);
	free(j->path);
	free(j);
}

/* Ring indexes are free-running 32-bit counters: compare by difference. */
static bool idx_before(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) < 0;
}

/*
 * The file is checked before anything in it is believed: every record's
 * header is read once into a copy, and only a journal whose records and
 * counts agree with the ring changes state.  Refused (-EUCLEAN): a state
 * other than FREE/INFLIGHT/ANSWERED, an entry length other than the ring's,
 * two owed records of one ring index (the request would be answered twice),
 * an unpushed answer written at an index the predecessor had not reached
 * (at or beyond req_cons), and a count of owed requests that is not the
 * distance between the consumer and the shared rsp_prod.
 */
int pv_journal_recover(struct pv_journal *j, uint32_t rsp_prod, uint32_t req_prod,
		       uint32_t *req_cons, unsigned *slots, unsigned *nr)
{
	unsigned i, k, n = 0, nr_slots = j->hdr->id.nr_slots;
	uint32_t cons = j->hdr->req_cons, *req_idx, *age;
	uint32_t *state, *rsp_idx;
	int rc = -EUCLEAN;

	/* One allocation: each record's state, req_idx, rsp_idx as read
	 * once, and the owed ones' ages for the sort. */
	state = calloc(4 * (size_t)nr_slots, sizeof(*state));
	if (!state)
		return -ENOMEM;
	req_idx = state + nr_slots;
	rsp_idx = req_idx + nr_slots;
	age = rsp_idx + nr_slots;
	for (i = 0; i < nr_slots; i++) {
		const struct j_slot *s = rec(j, i);

		state[i] = __atomic_load_n(&s->state, __ATOMIC_RELAXED);
		req_idx[i] = __atomic_load_n(&s->req_idx, __ATOMIC_RELAXED);
		rsp_idx[i] = __atomic_load_n(&s->rsp_idx, __ATOMIC_RELAXED);
		switch (state[i]) {
		case J_FREE:
			continue;
		case J_ANSWERED:
			if (idx_before(rsp_idx[i], rsp_prod))
				continue; /* the frontend saw it: freed below */
			break;
		case J_INFLIGHT:
			break;
		default:
			goto out;
		}
		if (__atomic_load_n(&s->len, __ATOMIC_RELAXED) != j->hdr->id.ent_size)
			goto out;
		if (!idx_before(req_idx[i], cons))
			cons = req_idx[i] + 1; /* died before the header's req_cons moved */
		slots[n++] = i;
	}
	/* Each consumed request has exactly one response: those owed are the
	 * consumed ones the frontend has not seen answered.  The frontend's
	 * indexes must agree with that, or the journal is not this ring's. */
	if (cons - rsp_prod != n || req_prod - cons > nr_slots || cons - rsp_prod > nr_slots)
		goto out;
	/* Insertion by age (distance below cons, one total order even across
	 * wrap-around): re-issue in the order they came. */
	for (i = 0; i < n; i++) {
		unsigned slot = slots[i];
		uint32_t a = cons - 1 - req_idx[slot];

		if (state[slot] == J_ANSWERED && rsp_idx[slot] - rsp_prod >= cons - rsp_prod)
			goto out;
		for (k = i; k > 0 && age[k - 1] <= a; k--) {
			if (age[k - 1] == a)
				goto out;
			age[k] = age[k - 1];
			slots[k] = slots[k - 1];
		}
		age[k] = a;
		slots[k] = slot;
	}
	for (i = 0; i < nr_slots; i++) /* seen answers are done with */
		if (state[i] == J_ANSWERED && idx_before(rsp_idx[i], rsp_prod))
			rec(j, i)->state = J_FREE;
	for (i = 0; i < n; i++) /* a re-issued request is owed again */
		rec(j, slots[i])->state = J_INFLIGHT;
	j->hdr->req_cons = cons;
	*req_cons = cons;
	*nr = n;
	rc = 0;
out:
	free(state);
	return rc;
}

const void *pv_journal_entry(const struct pv_journal *j, unsigned slot)
{
	return rec(j, slot)->ent;
}

void pv_journal_consumed(struct pv_journal *j, unsigned slot, uint32_t req_idx, const void *ent,
			 size_t len)
{
	struct j_slot *s = rec(j, slot);

	memcpy(s->ent, ent, len);
	s->len = (uint32_t)len;
	s->req_idx = req_idx;
	/* The record is whole before it counts, and counts before req_cons moves
	 * past it (compiler order suffices: a killed process loses no store). */
	__atomic_store_n(&s->state, J_INFLIGHT, __ATOMIC_RELEASE);
	__atomic_store_n(&j->hdr->req_cons, req_idx + 1, __ATOMIC_RELEASE);
}

void pv_journal_answered(struct pv_journal *j, unsigned slot, uint32_t rsp_idx)
{
	struct j_slot *s = rec(j, slot);

	s->rsp_idx = rsp_idx;
	__atomic_store_n(&s->state, J_ANSWERED, __ATOMIC_RELEASE);
}

void pv_journal_released(struct pv_journal *j, unsigned slot)
{
	__atomic_store_n(&rec(j, slot)->state, J_FREE, __ATOMIC_RELEASE);
}
