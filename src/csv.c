#include "csv.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

char *csv_to_utf8(const char *from, const char *data, size_t len, size_t *out_len)
{
    iconv_t cd = iconv_open("UTF-8", from);
    if (cd == (iconv_t)-1)
        return NULL;
    size_t cap = len * 2 + 16; /* GB18030 → UTF-8 grows at most 1.5x; UTF-16 → 1.5x */
    char *out = malloc(cap + 1);
    if (!out) {
        iconv_close(cd);
        return NULL;
    }
    char *in = (char *)data, *o = out;
    size_t inleft = len, outleft = cap;
    int ok = 1;
    while (inleft > 0) {
        if (iconv(cd, &in, &inleft, &o, &outleft) == (size_t)-1) {
            if (errno == E2BIG) {
                size_t used = (size_t)(o - out);
                cap *= 2;
                char *n = realloc(out, cap + 1);
                if (!n) {
                    ok = 0;
                    break;
                }
                out = n;
                o = out + used;
                outleft = cap - used;
                continue;
            }
            ok = 0; /* EILSEQ / EINVAL: not this charset */
            break;
        }
    }
    iconv_close(cd);
    if (!ok) {
        free(out);
        return NULL;
    }
    *o = '\0';
    if (out_len)
        *out_len = (size_t)(o - out);
    return out;
}

/* The separator of the first line: the most frequent of , TAB ; outside
 * quotes (a comma when there is none). */
static char detect_delim(const char *p, const char *end)
{
    int comma = 0, tab = 0, semi = 0, q = 0;
    for (; p < end; p++) {
        if (*p == '"')
            q = !q;
        else if (!q && (*p == '\n' || *p == '\r'))
            break;
        else if (!q && *p == ',')
            comma++;
        else if (!q && *p == '\t')
            tab++;
        else if (!q && *p == ';')
            semi++;
    }
    if (tab > comma && tab >= semi)
        return '\t';
    if (semi > comma && semi > tab)
        return ';';
    return ',';
}

int csv_open(csv_reader *r, const char *data, size_t len, werr *e)
{
    memset(r, 0, sizeof *r);
    r->line = 1;
    const unsigned char *u = (const unsigned char *)data;
    if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) {
        int le = u[0] == 0xFF;
        size_t n;
        r->owned = csv_to_utf8(le ? "UTF-16LE" : "UTF-16BE", data + 2, len - 2, &n);
        if (!r->owned)
            return werr_set(e, W_EINVALID, "bad_encoding", "the file is not valid UTF-16");
        r->encoding = le ? "utf-16le" : "utf-16be";
        r->p = r->owned;
        r->end = r->owned + n;
    } else if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) {
        if (!valid_utf8(data + 3, len - 3))
            return werr_set(e, W_EINVALID, "bad_encoding",
                            "the file starts with a UTF-8 mark but is not valid UTF-8");
        r->encoding = "utf-8-bom";
        r->p = data + 3;
        r->end = data + len;
    } else if (valid_utf8(data, len)) {
        r->encoding = "utf-8";
        r->p = data;
        r->end = data + len;
    } else {
        size_t n;
        r->owned = csv_to_utf8("GB18030", data, len, &n);
        if (!r->owned)
            return werr_set(e, W_EINVALID, "bad_encoding",
                            "the file is neither UTF-8 nor GBK/GB18030 (save it as CSV UTF-8)");
        r->encoding = "gb18030";
        r->p = r->owned;
        r->end = r->owned + n;
    }
    r->delim = detect_delim(r->p, r->end);
    return WOK;
}

void csv_close(csv_reader *r)
{
    free(r->owned);
    free(r->buf);
    r->owned = r->buf = NULL;
}

static int put(csv_reader *r, char c)
{
    if (r->buf_len + 1 >= r->buf_cap) {
        size_t cap = r->buf_cap ? r->buf_cap * 2 : 4096;
        char *n = realloc(r->buf, cap);
        if (!n)
            return -1;
        r->buf = n;
        r->buf_cap = cap;
    }
    r->buf[r->buf_len++] = c;
    return 0;
}

/* Ends the field being built; -1 when the record has too many. */
static int end_field(csv_reader *r, size_t start)
{
    if (r->nfields >= CSV_MAX_FIELDS) {
        snprintf(r->error, sizeof r->error, "line %d: more than %d columns", r->record_line,
                 CSV_MAX_FIELDS);
        return -1;
    }
    if (put(r, '\0') != 0) {
        snprintf(r->error, sizeof r->error, "out of memory");
        return -1;
    }
    r->offs[r->nfields] = start;
    r->lens[r->nfields] = r->buf_len - 1 - start;
    r->nfields++;
    return 0;
}

/* One physical record. Returns 1, 0 at end of input, -1 on error. */
static int read_record(csv_reader *r)
{
    r->nfields = 0;
    r->buf_len = 0;
    if (r->p >= r->end)
        return 0;
    r->record_line = r->line;
    size_t start = 0;
    for (;;) {
        /* a field */
        start = r->buf_len;
        if (r->p < r->end && *r->p == '"') {
            int open_line = r->line;
            r->p++;
            for (;;) {
                if (r->p >= r->end) {
                    snprintf(r->error, sizeof r->error,
                             "line %d: a quoted field is never closed", open_line);
                    return -1;
                }
                char c = *r->p++;
                if (c == '"') {
                    if (r->p < r->end && *r->p == '"') {
                        r->p++;
                        if (put(r, '"') != 0)
                            goto oom;
                        continue;
                    }
                    break;
                }
                if (c == '\n' || (c == '\r' && !(r->p < r->end && *r->p == '\n')))
                    r->line++;
                if (put(r, c) != 0)
                    goto oom;
                if (r->buf_len - start > CSV_MAX_FIELD)
                    goto toolong;
            }
        }
        /* unquoted text, or what follows a closing quote (kept, as Excel does) */
        while (r->p < r->end && *r->p != r->delim && *r->p != '\n' && *r->p != '\r') {
            if (put(r, *r->p++) != 0)
                goto oom;
            if (r->buf_len - start > CSV_MAX_FIELD)
                goto toolong;
        }
        if (end_field(r, start) != 0)
            return -1;
        if (r->p >= r->end)
            break;
        char c = *r->p++;
        if (c == r->delim)
            continue;
        /* end of line: CRLF, LF or CR */
        if (c == '\r' && r->p < r->end && *r->p == '\n')
            r->p++;
        r->line++;
        break;
    }
    for (int i = 0; i < r->nfields; i++)
        r->fields[i] = r->buf + r->offs[i];
    return 1;
oom:
    snprintf(r->error, sizeof r->error, "out of memory");
    return -1;
toolong:
    snprintf(r->error, sizeof r->error, "line %d: a field is longer than %d bytes",
             r->record_line, CSV_MAX_FIELD);
    return -1;
}

int csv_next(csv_reader *r)
{
    for (;;) {
        int rc = read_record(r);
        if (rc != 1)
            return rc;
        int empty = 1;
        for (int i = 0; i < r->nfields && empty; i++)
            for (const char *s = r->fields[i]; *s && empty; s++)
                if (*s != ' ' && *s != '\t')
                    empty = 0;
        if (!empty)
            return 1;
    }
}
