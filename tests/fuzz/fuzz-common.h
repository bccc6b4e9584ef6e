/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the libFuzzer harnesses share: a cursor over the fuzz input that
 * hands out fixed-width fields (zero once the input runs out, so every input
 * decodes to something), and the invariant check that ends a run with a
 * finding.  Header only; each harness includes it once.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

/* Copy len bytes out (zeros past the end); returns how many were real. */
static inline size_t fuzz_take(struct fuzz_in *in, void *out, size_t len)
{
	size_t k = in->n < len ? in->n : len;

	memcpy(out, in->p, k);
	memset((uint8_t *)out + k, 0, len - k);
	in->p += k;
	in->n -= k;
	return k;
}

/* An unsigned field of 1 to 8 bytes, little-endian as the rings are. */
static inline uint64_t fuzz_uint(struct fuzz_in *in, size_t bytes)
{
	uint8_t b[8];
	uint64_t v = 0;

	fuzz_take(in, b, bytes);
	while (bytes--)
		v = v << 8 | b[bytes];
	return v;
}

/* A NUL-terminated string of at most cap - 1 bytes: up to the next NUL in
 * the input (consumed) or the end of the input. */
static inline void fuzz_str(struct fuzz_in *in, char *out, size_t cap)
{
	size_t k = 0;

	while (k + 1 < cap && in->n && *in->p) {
		out[k++] = (char)*in->p++;
		in->n--;
	}
	if (in->n && !*in->p) {
		in->p++;
		in->n--;
	}
	out[k] = '\0';
}

/* A broken invariant: say which, and crash so libFuzzer keeps the input. */
#define FUZZ_CHECK(cond)                                                                   \
	do {                                                                               \
		if (!(cond)) {                                                             \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                           \
		}                                                                          \
	} while (0)

static char fuzz_dir[64];

/* At exit: the files the harness left in its directory, then the directory. */
static inline void fuzz_tmpdir_remove(void)
{
	DIR *d = opendir(fuzz_dir);
	struct dirent *e;
	char path[sizeof(fuzz_dir) + 256];

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", fuzz_dir, e->d_name);
			unlink(path);
		}
	if (d)
		closedir(d);
	rmdir(fuzz_dir);
}

/* A private directory in tmpfs (/dev/shm, else /tmp) for the files and
 * sockets a harness needs, removed when the run ends normally (a crash
 * leaves it, next to the crash input).  Returns its path. */
static inline const char *fuzz_tmpdir(const char *name)
{
	snprintf(fuzz_dir, sizeof(fuzz_dir), "/dev/shm/%s.XXXXXX", name);
	if (!mkdtemp(fuzz_dir)) {
		snprintf(fuzz_dir, sizeof(fuzz_dir), "/tmp/%s.XXXXXX", name);
		FUZZ_CHECK(mkdtemp(fuzz_dir));
	}
	atexit(fuzz_tmpdir_remove);
	return fuzz_dir;
}

#endif /* FUZZ_COMMON_H */
