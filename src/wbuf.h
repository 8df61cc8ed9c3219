/*
 * wbuf — a growable byte buffer (in the spirit of Redis' sds), used for
 * response bodies, CSV and HTML output. Always NUL-terminated.
 * An allocation failure sets `oom`; later appends become no-ops, and the
 * owner checks `oom` once at the end instead of after every append.
 */
#ifndef WHISTLE_WBUF_H
#define WHISTLE_WBUF_H

#include <stddef.h>

typedef struct wbuf {
    char *s;
    size_t len, cap;
    int oom;
} wbuf;

#define WBUF_INIT {NULL, 0, 0, 0}

/* Makes room for extra more bytes (and the NUL) so that a caller may write
 * them at b->s + b->len itself; 0, or -1 (and oom set) when it cannot. */
int wbuf_reserve(wbuf *b, size_t extra);
void wbuf_add(wbuf *b, const void *p, size_t n);
void wbuf_puts(wbuf *b, const char *s);
void wbuf_putc(wbuf *b, char c);
void wbuf_printf(wbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s with &<>"' escaped for HTML text and attributes. */
void wbuf_html(wbuf *b, const char *s);
/* Appends s as one CSV field (quoted when needed). */
void wbuf_csv(wbuf *b, const char *s);
/* Hands the buffer to the caller (free() it); b is reset. NULL on oom. */
char *wbuf_steal(wbuf *b, size_t *len);
void wbuf_free(wbuf *b);

#endif
