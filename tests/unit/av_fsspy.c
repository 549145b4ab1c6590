/*
 * av_fsspy.c - counts the files and folders libclamav creates under one
 * folder, for test_av: this program's open64, openat64, fopen64 and mkdir
 * come before the C library's for libclamav (which calls them through its
 * PLT) and pass every call on unchanged.
 */
#undef _FORTIFY_SOURCE
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "av_fsspy.h"

static char watched[512];
static unsigned long n_files, n_dirs;

void
fsspy_watch(const char *dir)
{
	snprintf(watched, sizeof(watched), "%s/", dir);
	__atomic_store_n(&n_files, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&n_dirs, 0, __ATOMIC_SEQ_CST);
}

unsigned long
fsspy_files(void)
{
	return __atomic_load_n(&n_files, __ATOMIC_SEQ_CST);
}

unsigned long
fsspy_dirs(void)
{
	return __atomic_load_n(&n_dirs, __ATOMIC_SEQ_CST);
}

static bool
under(const char *path)
{
	return watched[0] != '\0' && path != NULL &&
	    strncmp(path, watched, strlen(watched)) == 0;
}

/* A path relative to dirfd, made absolute when dirfd is a folder. */
static bool
under_at(int dirfd, const char *path)
{
	char link[64], dir[512];
	ssize_t n;

	if (path == NULL || path[0] == '/' || dirfd == AT_FDCWD)
		return under(path);
	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	if ((n = readlink(link, dir, sizeof(dir) - 2)) <= 0)
		return false;
	dir[n] = '/';
	dir[n + 1] = '\0';
	return under(dir);
}

/* Calls that create a file, and so carry a mode. */
#define CREATES(flags)	((flags) & (O_CREAT | __O_TMPFILE))

int
open64(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	mode_t	 mode = 0;
	va_list	 ap;

	va_start(ap, flags);
	if (CREATES(flags))
		mode = va_arg(ap, mode_t);
	va_end(ap);
	if (real == NULL)
		real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
	if (CREATES(flags) && under(path))
		__atomic_add_fetch(&n_files, 1, __ATOMIC_SEQ_CST);
	return real(path, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	static int (*real)(int, const char *, int, ...);
	mode_t	 mode = 0;
	va_list	 ap;

	va_start(ap, flags);
	if (CREATES(flags))
		mode = va_arg(ap, mode_t);
	va_end(ap);
	if (real == NULL)
		real = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT,
		    "openat64");
	if (CREATES(flags) && under_at(dirfd, path))
		__atomic_add_fetch(&n_files, 1, __ATOMIC_SEQ_CST);
	return real(dirfd, path, flags, mode);
}

FILE *
fopen64(const char *path, const char *mode)
{
	static FILE *(*real)(const char *, const char *);

	if (real == NULL)
		real = (FILE *(*)(const char *, const char *))dlsym(RTLD_NEXT,
		    "fopen64");
	if (mode != NULL && strpbrk(mode, "wa") != NULL && under(path))
		__atomic_add_fetch(&n_files, 1, __ATOMIC_SEQ_CST);
	return real(path, mode);
}

int
mkdir(const char *path, mode_t mode)
{
	static int (*real)(const char *, mode_t);

	if (real == NULL)
		real = (int (*)(const char *, mode_t))dlsym(RTLD_NEXT, "mkdir");
	if (under(path))
		__atomic_add_fetch(&n_dirs, 1, __ATOMIC_SEQ_CST);
	return real(path, mode);
}
