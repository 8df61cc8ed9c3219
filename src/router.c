#include "router.h"

#include <stdlib.h>
#include <string.h>

/* Matches one pattern against path. Parameters ({name}) match one
 * non-empty segment; their values are copied into r. */
static int pattern_match(const struct route *rt, const char *path, http_req *r)
{
    const char *p = rt->pattern, *s = path;
    int n = 0;
    char *vals[HTTP_MAX_PARAMS];
    while (*p) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            if (!end)
                goto fail;
            const char *seg = s;
            while (*s && *s != '/')
                s++;
            if (s == seg || n >= HTTP_MAX_PARAMS)
                goto fail;
            vals[n] = strndup(seg, (size_t)(s - seg));
            if (!vals[n])
                goto fail;
            n++;
            p = end + 1;
        } else {
            if (*p != *s)
                goto fail;
            p++;
            s++;
        }
    }
    if (*s && !(rt->flags & ROUTE_PREFIX))
        goto fail;
    if (r) {
        r->nparams = n;
        for (int i = 0; i < n; i++)
            r->param_values[i] = vals[i];
    } else {
        for (int i = 0; i < n; i++)
            free(vals[i]);
    }
    return 1;
fail:
    for (int i = 0; i < n; i++)
        free(vals[i]);
    return 0;
}

int router_find(const char *method, const char *path, http_req *r, char *allow, size_t allow_len)
{
    int path_seen = 0;
    if (allow && allow_len)
        allow[0] = '\0';
    for (int i = 0; i < routes_count; i++) {
        const struct route *rt = &routes[i];
        int method_ok = strcmp(rt->method, method) == 0 ||
                        (strcmp(method, "HEAD") == 0 && strcmp(rt->method, "GET") == 0);
        if (!method_ok) {
            if (pattern_match(rt, path, NULL)) {
                path_seen = 1;
                if (allow && strlen(allow) + strlen(rt->method) + 3 < allow_len) {
                    if (allow[0])
                        strcat(allow, ", ");
                    strcat(allow, rt->method);
                }
            }
            continue;
        }
        if (pattern_match(rt, path, r)) {
            r->route = rt;
            return ROUTE_FOUND;
        }
    }
    return path_seen ? ROUTE_BAD_METHOD : ROUTE_NOT_FOUND;
}

void router_free_params(http_req *r)
{
    for (int i = 0; i < r->nparams; i++)
        free(r->param_values[i]);
    r->nparams = 0;
}

int router_index(const struct route *rt)
{
    if (!rt)
        return -1;
    return (int)(rt - routes);
}

const char *req_param(const http_req *r, const char *name)
{
    if (!r->route)
        return NULL;
    /* Walk the pattern's {names} in order. */
    const char *p = r->route->pattern;
    size_t nlen = strlen(name);
    int i = 0;
    while ((p = strchr(p, '{')) != NULL) {
        const char *end = strchr(p, '}');
        if (!end)
            break;
        if ((size_t)(end - p - 1) == nlen && strncmp(p + 1, name, nlen) == 0)
            return i < r->nparams ? r->param_values[i] : NULL;
        i++;
        p = end + 1;
    }
    return NULL;
}
