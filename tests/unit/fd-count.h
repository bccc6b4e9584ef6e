/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The number of open fds (entries of /proc/self/fd, with . and ..): tests
 * compare it before and after, so a leaked fd shows.  Include after cmocka.h. */
#ifndef FD_COUNT_H
#define FD_COUNT_H

#include <dirent.h>

static inline unsigned open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

#endif
