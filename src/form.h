/*
 * form — application/x-www-form-urlencoded bodies (Open311 POST requests,
 * plain HTML forms). A parser of untrusted input: fuzzed by
 * tests/fuzz/fuzz_form.c.
 */
#ifndef WHISTLE_FORM_H
#define WHISTLE_FORM_H

#include <stddef.h>

#include "err.h"

#define FORM_MAX_FIELDS 256
#define FORM_MAX_KEY 256

typedef struct form_field {
    char *key, *value; /* decoded, NUL-terminated, valid UTF-8 */
} form_field;

typedef struct form {
    form_field *f;
    int n;
} form;

/* Parses a urlencoded body ('+' is a space, %XX a byte). Fails (W_EBADREQ,
 * code "bad_form") on a bad escape, a NUL byte, invalid UTF-8, more than
 * FORM_MAX_FIELDS fields or a key longer than FORM_MAX_KEY bytes. Empty
 * pairs ("a=1&&b=2") are skipped; a pair without '=' has the value "".
 * On failure *out is empty (nothing to free, form_free is harmless). */
int form_parse(const char *body, size_t len, form *out, werr *e);
/* The first value of key, or NULL. */
const char *form_get(const form *f, const char *key);
void form_free(form *f);

#endif
