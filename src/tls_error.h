/*
 * tls_error.h — the reason of an OpenSSL failure as one short line, for the client protocol's
 * two TLS ends (src/server.c and the client library, which links no daemon code: header-only).
 */
#ifndef SLUICE_TLS_ERROR_H
#define SLUICE_TLS_ERROR_H

#include <stddef.h>
#include <stdio.h>

#include <openssl/err.h>

/* The reason of the first error in this thread's OpenSSL error queue ("" when none), which it
 * empties. */
static inline void tls_error_reason(char *buf, size_t n)
{
    unsigned long e = ERR_get_error();
    buf[0] = '\0';
    if (e) {
        const char *r = ERR_reason_error_string(e);
        if (r)
            snprintf(buf, n, "%s", r);
        else
            ERR_error_string_n(e, buf, n);
    }
    ERR_clear_error();
}

#endif
