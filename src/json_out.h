/*
 * json_out — writes a jansson tree as compact JSON straight into a wbuf.
 *
 * Why not json_dumps: on the hot read paths (public tracking, queue pages)
 * json_dumps was a quarter of the server's instructions per request. It
 * escapes through a per-code-point iterator and grows its buffer from 16
 * bytes by callbacks. This writer copies runs of plain bytes with memcpy and
 * appends to a wbuf the response then owns. Its output is byte for byte what
 * json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) writes (tests/unit/test_json_out.c
 * compares the two on random trees), so clients see no difference.
 */
#ifndef WHISTLE_JSON_OUT_H
#define WHISTLE_JSON_OUT_H

#include <jansson.h>
#include <stdint.h>

#include "wbuf.h"

/* Deeper trees are refused, a guard against a tree that contains itself;
 * ours are a few levels deep. */
#define JSON_OUT_MAX_DEPTH 256

/* Appends v to b. Returns 0, or -1 when v holds a string that is not valid
 * UTF-8, nests deeper than JSON_OUT_MAX_DEPTH, or b ran out of memory; b may
 * then hold part of the output, and the caller frees it. */
int json_out(wbuf *b, const json_t *v);

/*
 * jw — writes JSON straight from values (no tree), for the pages that list
 * many rows (a queue page is 20–100 orders of ~30 fields: building and
 * freeing the jansson tree cost more than the query). Each call appends
 * one value; `key` names it inside an object and is NULL inside an array or
 * at the top. Keys are field names from the code (ASCII letters, digits and
 * '_'), written as they are. The writer puts in the commas. A string that is not valid
 * UTF-8, a non-finite real or unbalanced nesting makes jw_finish fail, and
 * the caller answers 500 instead of sending broken JSON.
 *
 *   wbuf b = WBUF_INIT; jw j; jw_init(&j, &b);
 *   jw_object(&j, NULL); jw_string(&j, "code", code); jw_object_end(&j);
 *   if (jw_finish(&j) != 0) ...; else body = wbuf_steal(&b, &len);
 */
typedef struct jw {
    wbuf *b;
    int depth;
    int failed;
    unsigned char comma[JSON_OUT_MAX_DEPTH + 1]; /* a value came before, at this depth */
} jw;

void jw_init(jw *j, wbuf *b);
void jw_object(jw *j, const char *key);
void jw_object_end(jw *j);
void jw_array(jw *j, const char *key);
void jw_array_end(jw *j);
/* s NULL writes null. */
void jw_string(jw *j, const char *key, const char *s);
void jw_int(jw *j, const char *key, int64_t v);
/* As jansson writes a real ("%.17g", ".0" when integral, "1e300" not "1e+300"). */
void jw_real(jw *j, const char *key, double v);
void jw_bool(jw *j, const char *key, int v);
void jw_null(jw *j, const char *key);
/* Epoch seconds as RFC 3339 UTC; null when t <= 0 (not set). */
void jw_time(jw *j, const char *key, int64_t t);
/* A jansson value (NULL writes null). */
void jw_value(jw *j, const char *key, const json_t *v);
/* One complete JSON value already written (by another jw), copied as it is. */
void jw_raw(jw *j, const char *key, const char *json, size_t len);
/* 0 when every value was written and every object and array closed. */
int jw_finish(jw *j);

#endif
