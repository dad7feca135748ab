/*
 * xmalloc.h — allocation that never returns NULL: on failure it logs and aborts, so callers
 * never test for NULL (as Redis zmalloc). Free with free().
 */
#ifndef SLUICE_XMALLOC_H
#define SLUICE_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
