/*
 * http — the HTTP service on libmicrohttpd: request assembly with limits,
 * authentication of the caller, the route table lookup, responses, and the
 * one error body: {"error":{"code":"...","message":"..."}}.
 *
 * A request travels: http.c (limits, request id, auth) → router.c (route
 * table in routes.c, permission check) → api_*.c handler (validates input,
 * calls the domain module) → domain module → store.
 */
#ifndef WHISTLE_HTTP_H
#define WHISTLE_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "perm.h"
#include "store.h"
#include "wbuf.h"

#define HTTP_MAX_PARAMS 6

struct route;
struct server;

typedef struct http_req {
    const char *method;
    const char *path;
    const char *rid;  /* request id (also X-Request-Id) */
    const char *ip;   /* client address */
    const char *body; /* raw body (NUL-terminated), may be NULL */
    size_t body_len;
    json_t *json; /* parsed JSON body for ROUTE_JSON routes, else NULL */
    int nparams;
    char *param_values[HTTP_MAX_PARAMS];
    const struct route *route;
    const principal *who; /* NULL when anonymous */
    store *st;
    struct server *srv;
    void *conn; /* struct MHD_Connection * */
} http_req;

typedef struct http_resp {
    int status;
    char *body; /* owned, free()d after sending */
    size_t len;
    const unsigned char *static_body; /* not owned (embedded assets) */
    const char *content_type;
    int nheaders;
    struct {
        char name[48];
        char value[512];
    } headers[10];
} http_resp;

/* Query string value (decoded), header value, or path parameter by name
 * ("{id}" in the pattern → "id"); NULL when absent. */
const char *req_query(const http_req *r, const char *key);
const char *req_header(const http_req *r, const char *key);
const char *req_cookie(const http_req *r, const char *key);
const char *req_param(const http_req *r, const char *name);

/* Responses. Each returns nothing; the handler just returns after one. */
void resp_json(http_resp *w, int status, json_t *body); /* steals body */
/* Answers with the JSON text in body (taken; body is reset), or 500 when
 * body ran out of memory. */
void resp_json_text(http_resp *w, int status, wbuf *body);
void resp_error(http_resp *w, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void resp_werr(http_resp *w, const werr *e);
/* Answers a domain call's result: out (stolen) with status when rc is WOK,
 * else the error in e (out is then ignored and freed). */
void resp_result(http_resp *w, int rc, int status, json_t *out, const werr *e);
/* Takes ownership of body (malloc'd). */
void resp_bytes(http_resp *w, int status, const char *content_type, char *body, size_t len);
void resp_static(http_resp *w, int status, const char *content_type, const unsigned char *body,
                 size_t len);
void resp_header(http_resp *w, const char *name, const char *value);

/* A pooled database reader for this request, or NULL after answering 503
 * (release it with store_release(r->st, d)). */
db *req_reader(http_req *r, http_resp *w);
/* The same, inside one read transaction (store_snapshot): for read-only
 * handlers whose several queries must agree with each other. */
db *req_snapshot(http_req *r, http_resp *w);

/* The audit actor for writes made on behalf of this request. */
struct audit_actor;
void req_actor(const http_req *r, struct audit_actor *out);

typedef struct server_config {
    const char *listen;       /* "127.0.0.1:8080" */
    unsigned max_connections; /* concurrent connections */
    unsigned timeout_s;       /* idle time per connection */
    size_t max_body;          /* JSON bodies */
    size_t max_upload;        /* uploads (photos, imports) */
    size_t max_header;        /* request line + headers */
    int test_clock;           /* expose POST /api/v1/test/clock (tests only) */
    int secure_cookies;       /* add Secure to cookies (behind TLS) */
    int connection_nice;      /* nice levels HTTP and work-lane threads run below the process */
    int http_threads;         /* HTTP event threads (epoll); 0: a thread per connection */
    int workers;              /* work-lane threads: requests that may wait (lane.h) */
} server_config;

void server_config_defaults(server_config *c);
int server_start(store *st, const server_config *c, struct server **out, werr *e);
/* Stops accepting, finishes requests in flight, frees the server. */
void server_stop(struct server *srv);
const server_config *server_get_config(const struct server *srv);
unsigned server_open_connections(const struct server *srv);

#endif
