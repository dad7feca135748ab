/*
 * err.c — filling and naming `struct err`. No state; safe from any thread.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

int err_set(struct err *err, int code, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    err->code = code;
    err->retriable = false;
    err->fatal = code != 0;
    return code;
}

void err_clear(struct err *err)
{
    if (err == NULL)
        return;
    memset(err, 0, sizeof(*err));
}

const char *err_code_str(int code)
{
    switch (code) {
#define ERR_CASE(name, val, text)                                                                  \
    case name:                                                                                     \
        return text;
        ERR_CODES(ERR_CASE)
#undef ERR_CASE
    }
    return "unknown error";
}
