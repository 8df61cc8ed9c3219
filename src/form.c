#include "form.h"

#include <stdlib.h>
#include <string.h>

#include "validate.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) into a new string; NULL on a bad escape, NUL or bad UTF-8
 * (*why says which). */
static char *decode(const char *s, size_t n, const char **why)
{
    char *out = malloc(n + 1);
    if (!out) {
        *why = "out of memory";
        return NULL;
    }
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(out);
                *why = "bad %-escape";
                return NULL;
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '\0') {
            free(out);
            *why = "NUL byte";
            return NULL;
        }
        out[j++] = c;
    }
    out[j] = '\0';
    if (!valid_utf8(out, j)) {
        free(out);
        *why = "not UTF-8";
        return NULL;
    }
    return out;
}

void form_free(form *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->n; i++) {
        free(f->f[i].key);
        free(f->f[i].value);
    }
    free(f->f);
    f->f = NULL;
    f->n = 0;
}

int form_parse(const char *body, size_t len, form *out, werr *e)
{
    out->f = NULL;
    out->n = 0;
    if (!body)
        return WOK;
    size_t i = 0;
    while (i < len) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        if (end > i) {
            size_t eq = i;
            while (eq < end && body[eq] != '=')
                eq++;
            const char *why = NULL;
            if (eq - i > FORM_MAX_KEY * 3) {
                why = "key too long";
            } else if (out->n >= FORM_MAX_FIELDS) {
                why = "too many fields";
            } else {
                char *k = decode(body + i, eq - i, &why);
                char *v = k ? decode(body + eq + (eq < end), end - eq - (eq < end), &why) : NULL;
                if (k && v && strlen(k) > FORM_MAX_KEY) {
                    why = "key too long";
                } else if (k && v) {
                    form_field *nf = realloc(out->f, (size_t)(out->n + 1) * sizeof *nf);
                    if (nf) {
                        out->f = nf;
                        out->f[out->n].key = k;
                        out->f[out->n].value = v;
                        out->n++;
                        k = v = NULL;
                    } else {
                        why = "out of memory";
                    }
                }
                free(k);
                free(v);
            }
            if (why) {
                form_free(out);
                return werr_set(e, W_EBADREQ, "bad_form",
                                "request body is not valid form data "
                                "(application/x-www-form-urlencoded): %s",
                                why);
            }
        }
        i = end + 1;
    }
    return WOK;
}

const char *form_get(const form *f, const char *key)
{
    for (int i = 0; f && i < f->n; i++)
        if (strcmp(f->f[i].key, key) == 0)
            return f->f[i].value;
    return NULL;
}
