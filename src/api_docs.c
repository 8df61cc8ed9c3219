/*
 * api_docs.c — the API describing itself: the route table as data
 * (GET /api/v1/routes) and the OpenAPI 3.1 document (GET
 * /api/v1/openapi.json, docs/openapi.json compiled into the binary).
 *
 * Why both: the OpenAPI document is written by hand (descriptions,
 * examples, schemas), the route table is what the server really does.
 * tests/api/openapi.test.mjs compares the two, so that a route added to
 * routes.c without documentation (or documentation of a route that is
 * gone) fails the build's tests instead of drifting.
 */
#include <string.h>

#include "api.h"
#include "assets.h"

/* The flags a client cares about, as words. */
static json_t *route_flags_json(unsigned flags)
{
    json_t *a = json_array();
    if (flags & ROUTE_JSON)
        json_array_append_new(a, json_string("json_body"));
    if (flags & ROUTE_UPLOAD)
        json_array_append_new(a, json_string("upload"));
    if (flags & ROUTE_NO_CSRF)
        json_array_append_new(a, json_string("no_csrf"));
    if (flags & ROUTE_PREFIX)
        json_array_append_new(a, json_string("prefix"));
    return a;
}

void h_routes(http_req *r, http_resp *w)
{
    (void)r;
    json_t *items = json_array();
    for (int i = 0; i < routes_count; i++) {
        const struct route *rt = &routes[i];
        json_array_append_new(items, json_pack("{s:s, s:s, s:s, s:s, s:o}", "method", rt->method,
                                               "pattern", rt->pattern, "permission", rt->perm,
                                               "summary", rt->summary ? rt->summary : "", "flags",
                                               route_flags_json(rt->flags)));
    }
    resp_json(w, 200, json_pack("{s:i, s:o}", "count", routes_count, "items", items));
}

void h_openapi(http_req *r, http_resp *w)
{
    (void)r;
    const struct asset *a = asset_find("docs/openapi.json");
    if (!a) {
        resp_error(w, 404, "not_found", "the OpenAPI document is not built into this binary");
        return;
    }
    resp_header(w, "Cache-Control", "no-cache");
    resp_static(w, 200, "application/json; charset=utf-8", a->data, a->len);
}
