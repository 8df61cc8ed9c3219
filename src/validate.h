/*
 * validate — every input field is checked here, at the edge, against a
 * declared type and range before any handler logic sees it (the kcgi way).
 * Field getters fill a werr naming the field: "phone: not a phone number".
 */
#ifndef WHISTLE_VALIDATE_H
#define WHISTLE_VALIDATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct http_req;

/* Valid UTF-8 without control characters (tab/newline allowed when
 * multiline), between min and max characters (code points). */
int valid_text(const char *s, size_t min_chars, size_t max_chars);
int valid_multiline(const char *s, size_t min_chars, size_t max_chars);
int valid_utf8(const char *s, size_t len);
size_t utf8_chars(const char *s);
int valid_login(const char *s);       /* [A-Za-z0-9._-]{3,64} */
int valid_phone(const char *s);       /* 6–20 of digits, +, -, space */
int valid_code(const char *s);        /* [A-Za-z0-9_.-]{1,64} */

enum { FIELD_OPTIONAL = 0, FIELD_REQUIRED = 1 };

/* JSON body fields. Each returns WOK (absent optional fields leave *out
 * untouched) or W_EINVALID with e naming the field. */
int jfield_text(json_t *obj, const char *key, int required, size_t min_chars, size_t max_chars,
                const char **out, werr *e);
int jfield_multiline(json_t *obj, const char *key, int required, size_t min_chars,
                     size_t max_chars, const char **out, werr *e);
int jfield_int(json_t *obj, const char *key, int required, int64_t min, int64_t max,
               int64_t *out, werr *e);
int jfield_double(json_t *obj, const char *key, int required, double min, double max, double *out,
                  werr *e);
int jfield_bool(json_t *obj, const char *key, int required, int *out, werr *e);
/* One of allowed (a NULL-terminated list). */
int jfield_enum(json_t *obj, const char *key, int required, const char *const *allowed,
                const char **out, werr *e);

/* Query-string fields, same rules. */
int qfield_text(const struct http_req *r, const char *key, int required, size_t max_chars,
                const char **out, werr *e);
int qfield_int(const struct http_req *r, const char *key, int required, int64_t min, int64_t max,
               int64_t *out, werr *e);
int qfield_enum(const struct http_req *r, const char *key, int required,
                const char *const *allowed, const char **out, werr *e);
/* An integer path parameter ({id}) ≥ 1. */
int param_id(const struct http_req *r, const char *name, int64_t *out, werr *e);

#endif
