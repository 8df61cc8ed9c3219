#include "wbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int wbuf_reserve(wbuf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->oom = 1;
        return -1;
    }
    b->s = s;
    b->cap = cap;
    return 0;
}

void wbuf_add(wbuf *b, const void *p, size_t n)
{
    if (wbuf_reserve(b, n) != 0)
        return;
    if (n)
        memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void wbuf_puts(wbuf *b, const char *s)
{
    wbuf_add(b, s, strlen(s));
}

void wbuf_putc(wbuf *b, char c)
{
    wbuf_add(b, &c, 1);
}

void wbuf_printf(wbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || wbuf_reserve(b, (size_t)n) != 0)
        return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void wbuf_html(wbuf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': wbuf_puts(b, "&amp;"); break;
        case '<': wbuf_puts(b, "&lt;"); break;
        case '>': wbuf_puts(b, "&gt;"); break;
        case '"': wbuf_puts(b, "&quot;"); break;
        case '\'': wbuf_puts(b, "&#39;"); break;
        default: wbuf_putc(b, *s);
        }
    }
}

void wbuf_csv(wbuf *b, const char *s)
{
    if (!s)
        return;
    /* A leading =+-@ would be run as a formula by spreadsheet programs. */
    int formula = (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') &&
                  !(s[0] == '-' && s[1] >= '0' && s[1] <= '9');
    if (!formula && !strpbrk(s, ",\"\r\n")) {
        wbuf_puts(b, s);
        return;
    }
    wbuf_putc(b, '"');
    if (formula)
        wbuf_putc(b, '\'');
    for (; *s; s++) {
        if (*s == '"')
            wbuf_putc(b, '"');
        wbuf_putc(b, *s);
    }
    wbuf_putc(b, '"');
}

char *wbuf_steal(wbuf *b, size_t *len)
{
    if (b->oom) {
        wbuf_free(b);
        return NULL;
    }
    if (!b->s)
        wbuf_reserve(b, 0);
    char *s = b->s;
    if (len)
        *len = b->len;
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

void wbuf_free(wbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}
