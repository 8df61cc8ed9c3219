/*
 * router — the route table (routes.c) and its lookup. The table is the one
 * place that lists what whistle's HTTP interface can do: method, path
 * pattern with {parameters}, handler, required permission, flags.
 */
#ifndef WHISTLE_ROUTER_H
#define WHISTLE_ROUTER_H

#include "http.h"

typedef void (*handler_fn)(http_req *r, http_resp *w);

enum route_flags {
    ROUTE_JSON = 1 << 0,     /* body must be a JSON object (415/400 otherwise) */
    ROUTE_UPLOAD = 1 << 1,   /* large body allowed (photos, imports) */
    ROUTE_NO_CSRF = 1 << 2,  /* state-changing route usable without a session (login) */
    ROUTE_NO_LOG = 1 << 3,   /* do not log each call (metrics, health) */
    ROUTE_PREFIX = 1 << 4,   /* pattern matches any path that starts with it */
    ROUTE_PRIORITY = 1 << 5, /* run on the priority lane (lane.h): leaders' screens */
    ROUTE_INLINE = 1 << 6,   /* a cheap read, run on the HTTP event thread itself: it must
                                never write (store_write refuses there) and never be slow */
};

struct route {
    const char *method;
    const char *pattern;
    handler_fn handler;
    const char *perm;
    unsigned flags;
    const char *summary; /* one line, English; used by the API reference */
    /* For a ROUTE_INLINE route whose cost depends on the request: 1 when
     * this one is cheap enough for the event thread (NULL: always). */
    int (*inline_if)(const http_req *r);
};

extern const struct route routes[];
extern const int routes_count;

enum { ROUTE_FOUND, ROUTE_NOT_FOUND, ROUTE_BAD_METHOD };

/* Finds the route for method+path; fills r->route and r's path parameters
 * (caller frees them with router_free_params). Sets *allow (a static
 * string of allowed methods) on ROUTE_BAD_METHOD. */
int router_find(const char *method, const char *path, http_req *r, char *allow, size_t allow_len);
void router_free_params(http_req *r);
/* Index of a route in the table (for metrics), -1 if none. */
int router_index(const struct route *rt);

#endif
