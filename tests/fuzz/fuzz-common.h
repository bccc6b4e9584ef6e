/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the libFuzzer harnesses share: a cursor over the fuzz input that
 * hands out fixed-width fields (zero once the input runs out, so every input
 * decodes to something), and the invariant check that ends a run with a
 * finding.  Header only; each harness includes it once.
 */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#endif /* FUZZ_COMMON_H */
