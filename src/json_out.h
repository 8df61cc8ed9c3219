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

#include "wbuf.h"

/* Deeper trees are refused, a guard against a tree that contains itself;
 * ours are a few levels deep. */
#define JSON_OUT_MAX_DEPTH 256

/* Appends v to b. Returns 0, or -1 when v holds a string that is not valid
 * UTF-8, nests deeper than JSON_OUT_MAX_DEPTH, or b ran out of memory; b may
 * then hold part of the output, and the caller frees it. */
int json_out(wbuf *b, const json_t *v);

#endif
