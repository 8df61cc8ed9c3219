#include "json_out.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "validate.h"

/* What a byte becomes inside a JSON string: 0 = itself, 'u' = \u00XX, else
 * the letter after the backslash. Bytes >= 0x80 are UTF-8, copied as they
 * are (json_dumps without JSON_ENSURE_ASCII does the same). */
// clang-format off
static const char escape_of[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u', /* 0x00 */
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', /* 0x10 */
    0,   0,   '"', 0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   /* 0x20 */
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   /* 0x30 */
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   /* 0x40 */
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   '\\',             /* 0x50 */
};
// clang-format on

/* Nonzero when one of the 8 bytes of w must be escaped inside a JSON
 * string: below 0x20, '"' or '\\'. (The bit tricks of "Bit Twiddling
 * Hacks": a byte below n sets its high bit in (w - n) & ~w; bytes of 0x80
 * and above, UTF-8, never do.) */
static uint64_t word_needs_escape(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    return ((w - ones * 0x20) & ~w & highs) | ((quote - ones) & ~quote & highs) |
           ((backslash - ones) & ~backslash & highs);
}

/* Writes the string in one pass straight into b's storage, room for the
 * worst case (every byte a \u00XX) being reserved first. Eight bytes at a
 * time while none needs escaping (most text: Chinese is all UTF-8 bytes
 * >= 0x80), one at a time from the first that does. */
static int out_string(wbuf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789ABCDEF";
    if (wbuf_reserve(b, 6 * len + 2) != 0)
        return -1;
    const unsigned char *p = (const unsigned char *)s;
    char *o = b->s + b->len;
    uint64_t high = 0; /* any byte >= 0x80: UTF-8 to check */
    *o++ = '"';
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (word_needs_escape(w))
            break;
        high |= w;
        memcpy(o, &w, 8);
        o += 8;
    }
    for (; i < len; i++) {
        unsigned char c = p[i];
        char e = escape_of[c];
        high |= c;
        if (!e) {
            *o++ = (char)c;
        } else if (e == 'u') {
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
        } else {
            o[0] = '\\';
            o[1] = e;
            o += 2;
        }
    }
    *o++ = '"';
    if ((high & 0x8080808080808080ULL) && !valid_utf8(s, len))
        return -1;
    b->len = (size_t)(o - b->s);
    b->s[b->len] = '\0';
    return 0;
}

static void out_integer(wbuf *b, json_int_t v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    /* Digits of the magnitude, computed unsigned so INT64_MIN has one. */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    wbuf_add(b, p, (size_t)(tmp + sizeof tmp - p));
}

/* A real as jansson 2.14 writes it (jsonp_dtostr): 17 significant digits,
 * ".0" appended when that reads as an integer, and the exponent without
 * '+' or leading zeros. Non-finite values have no JSON form: -1. */
static int out_real(wbuf *b, double v)
{
    if (!isfinite(v))
        return -1;
    char buf[48];
    int n = snprintf(buf, sizeof buf, "%.17g", v);
    if (n < 0 || (size_t)n >= sizeof buf - 2)
        return -1;
    char *e = strchr(buf, 'e');
    if (!e && !strchr(buf, '.')) {
        memcpy(buf + n, ".0", 3);
    } else if (e) {
        char *from = e + 1, *to = e + 1;
        if (*from == '+')
            from++;
        else if (*from == '-')
            *to++ = *from++;
        while (*from == '0' && from[1])
            from++;
        memmove(to, from, strlen(from) + 1);
    }
    wbuf_puts(b, buf);
    return 0;
}

static int out_value(wbuf *b, const json_t *v, int depth)
{
    if (depth > JSON_OUT_MAX_DEPTH)
        return -1;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        size_t key_len;
        json_t *item;
        int first = 1;
        wbuf_putc(b, '{');
        json_object_keylen_foreach((json_t *)v, key, key_len, item)
        {
            if (!first)
                wbuf_putc(b, ',');
            first = 0;
            if (out_string(b, key, key_len) != 0)
                return -1;
            wbuf_putc(b, ':');
            if (out_value(b, item, depth + 1) != 0)
                return -1;
        }
        wbuf_putc(b, '}');
        return 0;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        wbuf_putc(b, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                wbuf_putc(b, ',');
            if (out_value(b, json_array_get(v, i), depth + 1) != 0)
                return -1;
        }
        wbuf_putc(b, ']');
        return 0;
    }
    case JSON_STRING:
        return out_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        out_integer(b, json_integer_value(v));
        return 0;
    case JSON_REAL:
        return out_real(b, json_real_value(v));
    case JSON_TRUE:
        wbuf_add(b, "true", 4);
        return 0;
    case JSON_FALSE:
        wbuf_add(b, "false", 5);
        return 0;
    case JSON_NULL:
        wbuf_add(b, "null", 4);
        return 0;
    }
    return -1;
}

int json_out(wbuf *b, const json_t *v)
{
    if (!v || out_value(b, v, 0) != 0)
        return -1;
    return b->oom ? -1 : 0;
}

/* ---- jw ---------------------------------------------------------------- */

void jw_init(jw *j, wbuf *b)
{
    memset(j, 0, sizeof *j);
    j->b = b;
}

/* The comma and key before a value at the current depth. Keys are our
 * field names (see jw in json_out.h), copied without escaping. */
static void jw_begin(jw *j, const char *key)
{
    size_t n = key ? strlen(key) : 0;
    if (wbuf_reserve(j->b, n + 4) != 0)
        return;
    char *o = j->b->s + j->b->len;
    if (j->comma[j->depth])
        *o++ = ',';
    j->comma[j->depth] = 1;
    if (key) {
        *o++ = '"';
        memcpy(o, key, n);
        o += n;
        *o++ = '"';
        *o++ = ':';
    }
    j->b->len = (size_t)(o - j->b->s);
    j->b->s[j->b->len] = '\0';
}

static void jw_open(jw *j, const char *key, char c)
{
    jw_begin(j, key);
    wbuf_putc(j->b, c);
    if (j->depth == JSON_OUT_MAX_DEPTH) {
        j->failed = 1;
        return;
    }
    j->comma[++j->depth] = 0;
}

static void jw_close(jw *j, char c)
{
    if (j->depth == 0) {
        j->failed = 1;
        return;
    }
    j->depth--;
    wbuf_putc(j->b, c);
}

void jw_object(jw *j, const char *key)
{
    jw_open(j, key, '{');
}
void jw_object_end(jw *j)
{
    jw_close(j, '}');
}
void jw_array(jw *j, const char *key)
{
    jw_open(j, key, '[');
}
void jw_array_end(jw *j)
{
    jw_close(j, ']');
}

void jw_string(jw *j, const char *key, const char *s)
{
    jw_begin(j, key);
    if (!s)
        wbuf_add(j->b, "null", 4);
    else if (out_string(j->b, s, strlen(s)) != 0)
        j->failed = 1;
}

void jw_int(jw *j, const char *key, int64_t v)
{
    jw_begin(j, key);
    out_integer(j->b, (json_int_t)v);
}

void jw_real(jw *j, const char *key, double v)
{
    jw_begin(j, key);
    if (out_real(j->b, v) != 0)
        j->failed = 1;
}

void jw_bool(jw *j, const char *key, int v)
{
    jw_begin(j, key);
    if (v)
        wbuf_add(j->b, "true", 4);
    else
        wbuf_add(j->b, "false", 5);
}

void jw_null(jw *j, const char *key)
{
    jw_begin(j, key);
    wbuf_add(j->b, "null", 4);
}

void jw_time(jw *j, const char *key, int64_t t)
{
    if (t <= 0) {
        jw_null(j, key);
        return;
    }
    char buf[32];
    clock_format(t, buf);
    jw_string(j, key, buf);
}

void jw_value(jw *j, const char *key, const json_t *v)
{
    jw_begin(j, key);
    if (!v)
        wbuf_add(j->b, "null", 4);
    else if (out_value(j->b, v, j->depth) != 0)
        j->failed = 1;
}

void jw_raw(jw *j, const char *key, const char *json, size_t len)
{
    jw_begin(j, key);
    wbuf_add(j->b, json, len);
}

int jw_finish(jw *j)
{
    return j->failed || j->depth != 0 || j->b->oom ? -1 : 0;
}
