#include "validate.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int valid_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned c = *p;
        int n;
        unsigned cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            n = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (end - p <= n)
            return 0;
        for (int i = 1; i <= n; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return 0;
        p += n + 1;
    }
    return 1;
}

size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static int text_ok(const char *s, size_t min, size_t max, int multiline)
{
    if (!s)
        return 0;
    size_t len = strlen(s);
    if (!valid_utf8(s, len))
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 && !(multiline && (*p == '\n' || *p == '\r' || *p == '\t')))
            return 0;
        if (*p == 0x7F)
            return 0;
    }
    size_t n = utf8_chars(s);
    return n >= min && n <= max;
}

int valid_text(const char *s, size_t min, size_t max)
{
    return text_ok(s, min, max, 0);
}

int valid_multiline(const char *s, size_t min, size_t max)
{
    return text_ok(s, min, max, 1);
}

int valid_login(const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    if (n < 3 || n > 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

int valid_phone(const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s), digits = 0;
    if (n < 5 || n > 20)
        return 0;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9')
            digits++;
        else if (*s != '+' && *s != '-' && *s != ' ')
            return 0;
    }
    return digits >= 5;
}

int valid_code(const char *s)
{
    if (!s)
        return 0;
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static int missing(const char *key, int required, werr *e)
{
    return required ? werr_set(e, W_EINVALID, "missing_field", "%s: required", key) : WOK;
}

static int jtext(json_t *obj, const char *key, int required, size_t min, size_t max, int ml,
                 const char **out, werr *e)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return missing(key, required, e);
    if (!json_is_string(v))
        return werr_set(e, W_EINVALID, "invalid_field", "%s: must be a string", key);
    const char *s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return werr_set(e, W_EINVALID, "invalid_field", "%s: contains a NUL character", key);
    if (!text_ok(s, 0, (size_t)-1, ml))
        return werr_set(e, W_EINVALID, "invalid_field", "%s: contains control characters", key);
    size_t n = utf8_chars(s);
    if (n < min || n > max)
        return werr_set(e, W_EINVALID, "invalid_field", "%s: must be %zu to %zu characters", key,
                        min, max);
    *out = s;
    return WOK;
}

int jfield_text(json_t *obj, const char *key, int required, size_t min, size_t max,
                const char **out, werr *e)
{
    return jtext(obj, key, required, min, max, 0, out, e);
}

int jfield_multiline(json_t *obj, const char *key, int required, size_t min, size_t max,
                     const char **out, werr *e)
{
    return jtext(obj, key, required, min, max, 1, out, e);
}

int jfield_int(json_t *obj, const char *key, int required, int64_t min, int64_t max, int64_t *out,
               werr *e)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return missing(key, required, e);
    if (!json_is_integer(v))
        return werr_set(e, W_EINVALID, "invalid_field", "%s: must be an integer", key);
    json_int_t x = json_integer_value(v);
    if (x < min || x > max)
        return werr_set(e, W_EINVALID, "invalid_field", "%s: must be between %lld and %lld", key,
                        (long long)min, (long long)max);
    *out = x;
    return WOK;
}

int jfield_double(json_t *obj, const char *key, int required, double min, double max, double *out,
                  werr *e)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return missing(key, required, e);
    if (!json_is_number(v))
        return werr_set(e, W_EINVALID, "invalid_field", "%s: must be a number", key);
    double x = json_number_value(v);
    if (!isfinite(x) || x < min || x > max)
        return werr_set(e, W_EINVALID, "invalid_field", "%s: must be between %g and %g", key, min,
                        max);
    *out = x;
    return WOK;
}

int jfield_bool(json_t *obj, const char *key, int required, int *out, werr *e)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return missing(key, required, e);
    if (!json_is_boolean(v))
        return werr_set(e, W_EINVALID, "invalid_field", "%s: must be true or false", key);
    *out = json_is_true(v);
    return WOK;
}

static int in_list(const char *s, const char *const *allowed)
{
    for (int i = 0; allowed[i]; i++)
        if (strcmp(s, allowed[i]) == 0)
            return 1;
    return 0;
}

static int enum_error(const char *key, const char *const *allowed, werr *e)
{
    char list[300] = "";
    for (int i = 0; allowed[i]; i++) {
        if (strlen(list) + strlen(allowed[i]) + 3 >= sizeof list)
            break;
        if (i)
            strcat(list, ", ");
        strcat(list, allowed[i]);
    }
    return werr_set(e, W_EINVALID, "invalid_field", "%s: must be one of %s", key, list);
}

int jfield_enum(json_t *obj, const char *key, int required, const char *const *allowed,
                const char **out, werr *e)
{
    const char *s = NULL;
    int rc = jfield_text(obj, key, required, 0, 64, &s, e);
    if (rc != WOK || !s)
        return rc;
    if (!in_list(s, allowed))
        return enum_error(key, allowed, e);
    *out = s;
    return WOK;
}

int qfield_text(const http_req *r, const char *key, int required, size_t max, const char **out,
                werr *e)
{
    const char *s = req_query(r, key);
    if (!s || !*s)
        return missing(key, required, e);
    if (!valid_text(s, 1, max))
        return werr_set(e, W_EINVALID, "invalid_query", "%s: must be 1 to %zu characters of text",
                        key, max);
    *out = s;
    return WOK;
}

static int parse_int64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || end == s)
        return -1;
    *out = v;
    return 0;
}

int qfield_int(const http_req *r, const char *key, int required, int64_t min, int64_t max,
               int64_t *out, werr *e)
{
    const char *s = req_query(r, key);
    if (!s || !*s)
        return missing(key, required, e);
    int64_t v;
    if (parse_int64(s, &v) != 0 || v < min || v > max)
        return werr_set(e, W_EINVALID, "invalid_query", "%s: must be an integer from %lld to %lld",
                        key, (long long)min, (long long)max);
    *out = v;
    return WOK;
}

int qfield_enum(const http_req *r, const char *key, int required, const char *const *allowed,
                const char **out, werr *e)
{
    const char *s = req_query(r, key);
    if (!s || !*s)
        return missing(key, required, e);
    if (!in_list(s, allowed))
        return enum_error(key, allowed, e);
    *out = s;
    return WOK;
}

int param_id(const http_req *r, const char *name, int64_t *out, werr *e)
{
    int64_t v;
    if (parse_int64(req_param(r, name), &v) != 0 || v < 1)
        return werr_set(e, W_ENOTFOUND, "not_found", "%s: no such object", name);
    *out = v;
    return WOK;
}
