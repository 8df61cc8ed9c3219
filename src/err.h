/*
 * err.h — the error codes every whistle function returns, and the message
 * that travels with them up to the HTTP layer or the CLI.
 *
 * Convention (as in SQLite): functions return WOK or a W_E* code; when they
 * fail they fill the caller's `werr` with a stable machine code (snake_case,
 * shown to API clients as error.code) and a human message.
 */
#ifndef WHISTLE_ERR_H
#define WHISTLE_ERR_H

#include <stdarg.h>
#include <stdio.h>

enum {
    WOK = 0,
    W_EINTERNAL = 1,  /* 500: a bug or the machine failed */
    W_EBADREQ = 2,    /* 400: malformed request (syntax) */
    W_EUNAUTH = 3,    /* 401: no or bad credentials */
    W_EFORBIDDEN = 4, /* 403: authenticated, but not allowed */
    W_ENOTFOUND = 5,  /* 404 */
    W_ECONFLICT = 6,  /* 409: the object's state does not allow it */
    W_EINVALID = 7,   /* 422: well-formed but a field is out of range */
    W_ETOOMANY = 8,   /* 429: rate limited or locked */
    W_EBUSY = 9,      /* 503: overloaded or shutting down */
    W_ETOOLARGE = 10, /* 413 */
    W_EMEDIA = 11,    /* 415 */
};

typedef struct werr {
    int rc;
    char code[48];     /* stable machine-readable code, e.g. "invalid_field" */
    char message[400]; /* for people; may name the field */
} werr;

/* Fill e (if not NULL) and return rc, so that callers can write
 * `return werr_set(e, W_EINVALID, "invalid_field", "phone: %s", why);` */
static inline int werr_set(werr *e, int rc, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline int werr_set(werr *e, int rc, const char *code, const char *fmt, ...)
{
    if (e) {
        va_list ap;
        e->rc = rc;
        snprintf(e->code, sizeof e->code, "%s", code);
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof e->message, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* The HTTP status for a W_* code. */
int werr_http_status(int rc);

#endif
