/*
 * http.c — libmicrohttpd glue.
 *
 * A few event threads (MHD's thread pool on epoll, `serve --http-threads`)
 * read requests and send answers for every connection. They run the cheap
 * reads marked ROUTE_INLINE themselves (public tracking, queue pages, order
 * details); every other request may wait — on the single writer's group
 * commit or on a long read — so its connection is suspended and the request
 * handed to the work lane (lane.h), whose thread answers and resumes it.
 * Under load a request then waits in one queue instead of in the scheduler
 * among a thread per connection (which gave track a p99 of 54–117 ms on
 * 2 cores for ~50 µs of work). `--http-threads 0` is the former model, a
 * thread per connection, kept for comparison.
 */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <pthread.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "assets.h"
#include "audit.h"
#include "auth.h"
#include "clock.h"
#include "crypto.h"
#include "json_out.h"
#include "lane.h"
#include "log.h"
#include "metrics.h"
#include "router.h"
#include "validate.h"
#include "wbuf.h"

#define HTTP_LANE_THREADS 2

struct server {
    struct MHD_Daemon *daemon;
    lane *lane; /* runs ROUTE_PRIORITY handlers at the process's priority */
    lane *work; /* runs the requests that may wait; NULL with a thread per connection */
    store *st;
    server_config cfg;
    _Atomic int in_flight;
    _Atomic int draining;
};

struct conn_req {
    struct server *srv;
    lane_job job;         /* while the request is on a lane */
    _Atomic int answered; /* a lane thread has filled resp: queue it */
    http_req req;
    http_resp resp;
    principal who;
    wbuf body;
    size_t limit;
    int too_large;
    int match;
    char allow[128];
    char rid[40];
    char ip[64];
    int64_t t0;
    int counted;
};

int werr_http_status(int rc)
{
    switch (rc) {
    case WOK:
        return 200;
    case W_EBADREQ:
        return 400;
    case W_EUNAUTH:
        return 401;
    case W_EFORBIDDEN:
        return 403;
    case W_ENOTFOUND:
        return 404;
    case W_ECONFLICT:
        return 409;
    case W_ETOOLARGE:
        return 413;
    case W_EMEDIA:
        return 415;
    case W_EINVALID:
        return 422;
    case W_ETOOMANY:
        return 429;
    case W_EBUSY:
        return 503;
    default:
        return 500;
    }
}

void server_config_defaults(server_config *c)
{
    memset(c, 0, sizeof *c);
    c->listen = "127.0.0.1:8080";
    c->max_connections = 512;
    c->timeout_s = 30;
    c->max_body = 1 << 20;     /* 1 MiB JSON */
    c->max_upload = 64u << 20; /* 64 MiB imports and photos */
    c->max_header = 32 << 10;  /* 32 KiB request line + headers */
    c->connection_nice = 10;
    c->http_threads = 4; /* 2 per core of a small machine: one blocked on a disk read */
    c->workers = 64;     /* as many as the writer's largest group commit */
}

/* ---- request accessors ---------------------------------------------- */

const char *req_query(const http_req *r, const char *key)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_GET_ARGUMENT_KIND,
                                       key);
}

const char *req_header(const http_req *r, const char *key)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_HEADER_KIND, key);
}

const char *req_cookie(const http_req *r, const char *key)
{
    return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_COOKIE_KIND, key);
}

db *req_reader(http_req *r, http_resp *w)
{
    db *d = store_reader(r->st);
    if (!d)
        resp_error(w, 503, "database_unavailable", "database unavailable");
    return d;
}

db *req_snapshot(http_req *r, http_resp *w)
{
    db *d = store_snapshot(r->st);
    if (!d)
        resp_error(w, 503, "database_unavailable", "database unavailable");
    return d;
}

void req_actor(const http_req *r, audit_actor *out)
{
    audit_actor_from(out, r->who, r->ip, r->rid);
}

/* ---- responses ------------------------------------------------------ */

static void resp_reset(http_resp *w)
{
    free(w->body);
    w->body = NULL;
    w->static_body = NULL;
    w->len = 0;
}

void resp_bytes(http_resp *w, int status, const char *content_type, char *body, size_t len)
{
    resp_reset(w);
    w->status = status;
    w->content_type = content_type;
    w->body = body;
    w->len = len;
}

void resp_static(http_resp *w, int status, const char *content_type, const unsigned char *body,
                 size_t len)
{
    resp_reset(w);
    w->status = status;
    w->content_type = content_type;
    w->static_body = body;
    w->len = len;
}

void resp_json(http_resp *w, int status, json_t *body)
{
    wbuf b = WBUF_INIT;
    int rc = json_out(&b, body);
    json_decref(body);
    if (rc != 0) {
        wbuf_free(&b);
        resp_error(w, 500, "internal", "cannot encode response");
        return;
    }
    resp_json_text(w, status, &b);
}

void resp_json_text(http_resp *w, int status, wbuf *body)
{
    size_t len = 0;
    char *s = wbuf_steal(body, &len);
    if (!s) {
        resp_error(w, 500, "internal", "cannot encode response");
        return;
    }
    resp_bytes(w, status, "application/json; charset=utf-8", s, len);
}

void resp_error(http_resp *w, int status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_t *body = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!s) { /* message was not valid UTF-8, or out of memory */
        s = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"error\"}}");
        status = 500;
    }
    resp_bytes(w, status, "application/json; charset=utf-8", s, s ? strlen(s) : 0);
}

void resp_werr(http_resp *w, const werr *e)
{
    int status = werr_http_status(e->rc);
    if (status == 500 && e->rc != W_EINTERNAL)
        status = 500;
    resp_error(w, status, e->code[0] ? e->code : "internal", "%s",
               e->message[0] ? e->message : "internal error");
}

void resp_result(http_resp *w, int rc, int status, json_t *out, const werr *e)
{
    if (rc != WOK) {
        json_decref(out);
        resp_werr(w, e);
        return;
    }
    resp_json(w, status, out);
}

void resp_header(http_resp *w, const char *name, const char *value)
{
    if (w->nheaders >= (int)(sizeof w->headers / sizeof w->headers[0]))
        return;
    snprintf(w->headers[w->nheaders].name, sizeof w->headers[0].name, "%s", name);
    snprintf(w->headers[w->nheaders].value, sizeof w->headers[0].value, "%s", value);
    w->nheaders++;
}

/* ---- static files ---------------------------------------------------- */

static const char *mime_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".jpg", "image/jpeg"},
        {".webp", "image/webp"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".webmanifest", "application/manifest+json"},
    };
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static int serve_static(http_req *r, http_resp *w)
{
    char name[512];
    const char *path = r->path;
    if (strstr(path, "..") || strlen(path) > 400)
        return 0;
    if (strcmp(path, "/") == 0)
        path = "/index.html";
    snprintf(name, sizeof name, "web%s", path);
    const struct asset *a = asset_find(name);
    if (!a && !strchr(strrchr(path, '/'), '.')) { /* /m → web/m.html, /console → ... */
        snprintf(name, sizeof name, "web%s.html", path);
        a = asset_find(name);
    }
    if (!a)
        return 0;
    /* ETag from the content, so that a rebuilt binary invalidates caches. */
    unsigned h = 2166136261u;
    for (size_t i = 0; i < a->len; i++)
        h = (h ^ a->data[i]) * 16777619u;
    char etag[40];
    snprintf(etag, sizeof etag, "\"%zx-%08x\"", a->len, h);
    const char *inm = req_header(r, "If-None-Match");
    resp_header(w, "ETag", etag);
    resp_header(w, "Cache-Control",
                strstr(name, "/vendor/") ? "public, max-age=86400" : "no-cache");
    if (inm && strcmp(inm, etag) == 0) {
        resp_static(w, 304, NULL, NULL, 0);
        return 1;
    }
    resp_static(w, 200, mime_type(name), a->data, a->len);
    return 1;
}

/* ---- dispatch -------------------------------------------------------- */

static int is_safe_method(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0;
}

/* A handler's call as the priority lane runs it: on the lane's thread, with
 * the request's id for the log lines. */
static void call_on_lane(void *p)
{
    struct conn_req *cr = p;
    log_set_thread_rid(cr->rid);
    cr->req.route->handler(&cr->req, &cr->resp);
    log_set_thread_rid(NULL);
}

/* With a thread per connection, a priority route's handler runs on the
 * lane while the connection thread waits (with event threads, the whole
 * request is posted there instead: on_request). */
static void run_handler(struct server *srv, struct conn_req *cr)
{
    if ((cr->req.route->flags & ROUTE_PRIORITY) && srv->lane && !srv->work) {
        metrics_priority_lane();
        if (lane_run(srv->lane, call_on_lane, cr) == WOK)
            return;
    }
    cr->req.route->handler(&cr->req, &cr->resp);
}

/* A session's once-a-minute refresh of its idle timer, posted to the work
 * lane when the request itself runs on an event thread (which must not
 * wait for the writer). Frees itself. */
struct touch_job {
    lane_job job;
    store *st;
    int64_t session_id, due;
};

static void run_touch(void *p)
{
    struct touch_job *t = p;
    (void)auth_touch(t->st, t->session_id, t->due);
    free(t);
}

static void touch_session(struct server *srv, const principal *who, int on_event_thread)
{
    if (!who->touch_due)
        return;
    if (!on_event_thread) {
        (void)auth_touch(srv->st, who->session_id, who->touch_due);
        return;
    }
    struct touch_job *t = malloc(sizeof *t);
    if (!t)
        return; /* the next request refreshes it */
    *t = (struct touch_job){.st = srv->st, .session_id = who->session_id, .due = who->touch_due};
    if (lane_post(srv->work, &t->job, run_touch, t) != WOK)
        free(t);
}

static void dispatch(struct server *srv, struct conn_req *cr, int on_event_thread)
{
    http_req *r = &cr->req;
    http_resp *w = &cr->resp;
    if (atomic_load(&srv->draining)) {
        resp_error(w, 503, "shutting_down", "服务正在重启 (server is shutting down)");
        resp_header(w, "Retry-After", "5");
        return;
    }
    if (cr->too_large) {
        resp_error(w, 413, "body_too_large", "request body larger than %zu bytes", cr->limit);
        return;
    }
    if (cr->match == ROUTE_NOT_FOUND) {
        if ((strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0) &&
            strncmp(r->path, "/api/", 5) != 0 && serve_static(r, w))
            return;
        resp_error(w, 404, "not_found", "no such resource: %s", r->path);
        return;
    }
    if (cr->match == ROUTE_BAD_METHOD) {
        resp_error(w, 405, "method_not_allowed", "%s is not allowed here; allowed: %s", r->method,
                   cr->allow);
        resp_header(w, "Allow", cr->allow);
        return;
    }
    const struct route *rt = r->route;
    werr e = {0};
    int rc = auth_resolve(srv->st, req_header(r, "Authorization"), req_cookie(r, AUTH_COOKIE),
                          &cr->who, &e);
    if (rc != WOK) {
        /* A stale cookie must not lock the caller out of public routes. */
        if (strcmp(rt->perm, PERM_PUBLIC) != 0 || req_header(r, "Authorization")) {
            resp_werr(w, &e);
            return;
        }
        memset(&cr->who, 0, sizeof cr->who);
    }
    touch_session(srv, &cr->who, on_event_thread);
    r->who = cr->who.user_id ? &cr->who : NULL;
    if (strcmp(rt->perm, PERM_PUBLIC) != 0) {
        if (!r->who) {
            resp_error(w, 401, "login_required", "请先登录 (login required)");
            return;
        }
        if (!perm_allows(r->who->role, rt->perm)) {
            resp_error(w, 403, "forbidden", "无权限 (role %s may not %s)", role_name(r->who->role),
                       rt->perm);
            return;
        }
    }
    if (r->who && !r->who->via_token && !is_safe_method(r->method) &&
        !(rt->flags & ROUTE_NO_CSRF)) {
        const char *t = req_header(r, "X-CSRF-Token");
        if (!t || !crypto_equal(t, r->who->csrf)) {
            resp_error(w, 403, "csrf_failed", "missing or wrong X-CSRF-Token header");
            return;
        }
    }
    if (rt->flags & ROUTE_JSON) {
        const char *ct = req_header(r, "Content-Type");
        if (!ct || strncasecmp(ct, "application/json", 16) != 0) {
            resp_error(w, 415, "unsupported_media_type", "Content-Type must be application/json");
            return;
        }
        json_error_t je;
        r->json = json_loadb(r->body ? r->body : "", r->body_len, JSON_REJECT_DUPLICATES, &je);
        if (!r->json) {
            resp_error(w, 400, "bad_json", "request body is not valid JSON: %s (at %d:%d)", je.text,
                       je.line, je.column);
            return;
        }
        if (!json_is_object(r->json)) {
            resp_error(w, 400, "bad_json", "request body must be a JSON object");
            return;
        }
    }
    run_handler(srv, cr);
    if (!w->status)
        resp_error(w, 500, "internal", "handler produced no response");
}

static void add_common_headers(struct MHD_Response *mr, struct conn_req *cr)
{
    MHD_add_response_header(mr, "X-Request-Id", cr->rid);
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(mr, "Referrer-Policy", "same-origin");
    MHD_add_response_header(mr, "X-Frame-Options", "DENY");
    const char *ct = cr->resp.content_type;
    if (ct && strncmp(ct, "text/html", 9) == 0)
        MHD_add_response_header(
            mr, "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: "
            "https: http:; connect-src 'self'; font-src 'self'; object-src 'none'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    int has_cache = 0;
    for (int i = 0; i < cr->resp.nheaders; i++) {
        MHD_add_response_header(mr, cr->resp.headers[i].name, cr->resp.headers[i].value);
        if (strcasecmp(cr->resp.headers[i].name, "Cache-Control") == 0)
            has_cache = 1;
    }
    if (!has_cache)
        MHD_add_response_header(mr, "Cache-Control", "no-store");
}

static void make_rid(struct conn_req *cr, struct MHD_Connection *c)
{
    const char *given = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
    if (given) {
        size_t n = strlen(given);
        int ok = n >= 8 && n <= 36;
        for (size_t i = 0; ok && i < n; i++)
            ok = (given[i] >= '0' && given[i] <= '9') || (given[i] >= 'a' && given[i] <= 'z') ||
                 (given[i] >= 'A' && given[i] <= 'Z') || given[i] == '-';
        if (ok) {
            snprintf(cr->rid, sizeof cr->rid, "%s", given);
            return;
        }
    }
    crypto_random_hex(cr->rid, 8);
}

static void client_ip(struct conn_req *cr, struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    cr->ip[0] = '\0';
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, cr->ip, sizeof cr->ip);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, cr->ip, sizeof cr->ip);
}

static enum MHD_Result queue(struct MHD_Connection *c, struct conn_req *cr)
{
    http_resp *w = &cr->resp;
    struct MHD_Response *mr;
    int head = strcmp(cr->req.method, "HEAD") == 0;
    if (w->static_body)
        mr = MHD_create_response_from_buffer(head ? 0 : w->len, (void *)w->static_body,
                                             MHD_RESPMEM_PERSISTENT);
    else if (w->body) {
        mr = MHD_create_response_from_buffer(head ? 0 : w->len, w->body, MHD_RESPMEM_MUST_FREE);
        w->body = NULL; /* MHD owns it now */
    } else
        mr = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!mr)
        return MHD_NO;
    if (w->content_type)
        MHD_add_response_header(mr, "Content-Type", w->content_type);
    add_common_headers(mr, cr);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)w->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

/* Once per thread of MHD's: an event thread serving many connections
 * must never wait for the writer. */
static void prepare_http_thread(struct server *srv)
{
    static _Thread_local int done;
    if (done || !srv->work)
        return;
    done = 1;
    store_forbid_writes_on_this_thread(1);
}

/* The lane that must run this request, or NULL to run it on the event
 * thread: the answers that need no handler (errors, static files) and the
 * routes marked ROUTE_INLINE. */
static lane *lane_for(struct server *srv, struct conn_req *cr)
{
    if (atomic_load(&srv->draining) || cr->too_large || cr->match != ROUTE_FOUND)
        return NULL;
    const struct route *rt = cr->req.route;
    if ((rt->flags & ROUTE_INLINE) && (!rt->inline_if || rt->inline_if(&cr->req)))
        return NULL;
    if (rt->flags & ROUTE_PRIORITY) {
        metrics_priority_lane();
        return srv->lane;
    }
    return srv->work;
}

/* A request's run on a lane thread: answer it, then hand the connection
 * back to its event thread, which calls on_request again to send it. */
static void run_on_lane(void *p)
{
    struct conn_req *cr = p;
    struct MHD_Connection *c = (struct MHD_Connection *)cr->req.conn;
    log_set_thread_rid(cr->rid);
    dispatch(cr->srv, cr, 0);
    log_set_thread_rid(NULL);
    atomic_store(&cr->answered, 1);
    MHD_resume_connection(c); /* cr may be freed from here on */
}

/* The request is complete: answer it here or on a lane. */
static enum MHD_Result serve_request(struct server *srv, struct MHD_Connection *c,
                                     struct conn_req *cr)
{
    if (srv->work) {
        lane *l = lane_for(srv, cr);
        if (l) {
            MHD_suspend_connection(c);
            if (lane_post(l, &cr->job, run_on_lane, cr) == WOK)
                return MHD_YES;
            /* The lanes stop only once the server drains: answer 503 here. */
            dispatch(srv, cr, 1);
            atomic_store(&cr->answered, 1);
            MHD_resume_connection(c);
            return MHD_YES;
        }
    }
    dispatch(srv, cr, srv->work != NULL);
    return queue(c, cr);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    struct server *srv = cls;
    struct conn_req *cr = *con_cls;
    if (!cr) {
        prepare_http_thread(srv);
        cr = calloc(1, sizeof *cr);
        if (!cr)
            return MHD_NO;
        *con_cls = cr;
        atomic_fetch_add(&srv->in_flight, 1);
        cr->counted = 1;
        cr->srv = srv;
        cr->t0 = clock_mono_ns();
        make_rid(cr, c);
        client_ip(cr, c);
        cr->req.method = method;
        cr->req.path = url;
        cr->req.rid = cr->rid;
        cr->req.ip = cr->ip;
        cr->req.st = srv->st;
        cr->req.srv = srv;
        cr->req.conn = c;
        cr->match = router_find(method, url, &cr->req, cr->allow, sizeof cr->allow);
        int upload = cr->match == ROUTE_FOUND && (cr->req.route->flags & ROUTE_UPLOAD);
        cr->limit = upload ? srv->cfg.max_upload : srv->cfg.max_body;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        unsigned long long clen = cl ? strtoull(cl, NULL, 10) : 0;
        if (clen > cr->limit)
            cr->too_large = 1; /* read and discard, then answer 413 */
        if (clen > 16ULL * cr->limit) {
            /* Far too large to read: answer now; MHD closes the connection. */
            log_set_thread_rid(cr->rid);
            dispatch(srv, cr, srv->work != NULL);
            return queue(c, cr);
        }
        return MHD_YES;
    }
    if (atomic_load(&cr->answered)) { /* back from a lane */
        log_set_thread_rid(cr->rid);
        return queue(c, cr);
    }
    if (*upload_size) {
        if (!cr->too_large) {
            if (cr->body.len + *upload_size > cr->limit) {
                cr->too_large = 1;
                wbuf_free(&cr->body);
            } else {
                wbuf_add(&cr->body, upload_data, *upload_size);
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (cr->resp.status) /* already answered (413 up front) */
        return MHD_YES;
    if (cr->body.oom) {
        cr->too_large = 1;
        wbuf_free(&cr->body);
    }
    cr->req.body = cr->body.s;
    cr->req.body_len = cr->body.len;
    log_set_thread_rid(cr->rid);
    (void)version;
    return serve_request(srv, c, cr);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *srv = cls;
    struct conn_req *cr = *con_cls;
    (void)c;
    if (!cr)
        return;
    int64_t dt = clock_mono_ns() - cr->t0;
    int status = cr->resp.status ? cr->resp.status : 499;
    metrics_request(router_index(cr->req.route), status, dt);
    if (!(cr->req.route && (cr->req.route->flags & ROUTE_NO_LOG)))
        log_msg(status >= 500 ? LOG_ERROR : LOG_INFO, cr->rid, "%s %s %d %.1fms ip=%s user=%s%s",
                cr->req.method, cr->req.path, status, (double)dt / 1e6, cr->ip,
                cr->who.user_id ? cr->who.login : "-",
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    log_set_thread_rid(NULL);
    json_decref(cr->req.json);
    router_free_params(&cr->req);
    wbuf_free(&cr->body);
    free(cr->resp.body);
    if (cr->counted)
        atomic_fetch_sub(&srv->in_flight, 1);
    free(cr);
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    (void)cls;
    (void)c;
    (void)socket_context;
    metrics_connection(toe == MHD_CONNECTION_NOTIFY_STARTED ? 1 : -1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_warn(NULL, "http: %s", msg);
}

/* Parses "host:port", "[v6]:port" or ":port" into a socket address. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, werr *e)
{
    memset(ss, 0, sizeof *ss);
    char host[128];
    const char *port;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host)
            goto bad;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        port = end + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon || (size_t)(colon - s) >= sizeof host)
            goto bad;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
        port = colon + 1;
    }
    char *end;
    long p = strtol(port, &end, 10);
    if (*port == '\0' || *end || p < 0 || p > 65535)
        goto bad;
    if (host[0] == '\0')
        strcpy(host, "0.0.0.0");
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)p);
        return WOK;
    }
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)p);
        return WOK;
    }
bad:
    return werr_set(e, W_EINVALID, "bad_listen",
                    "--listen %s: expected HOST:PORT with a numeric address, e.g. 127.0.0.1:8080",
                    s);
}

/* The single writer thread (store.c) is the one serial stage: every write
 * waits for it, so it must run whenever it has work. The threads that
 * serve connections (MHD's, and the work lane's) therefore run
 * server_config.connection_nice levels of nice below the process. MHD's
 * threads inherit the nice of the thread that starts the daemon, so a
 * short-lived thread lowers its own priority and starts it; the process
 * keeps its own. */
struct daemon_start {
    struct server *srv;
    const struct sockaddr_storage *ss;
    struct MHD_Daemon *daemon; /* out */
};

static void *start_daemon_niced(void *p)
{
    struct daemon_start *ds = p;
    const server_config *c = &ds->srv->cfg;
    thread_lower_own_priority(c->connection_nice);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ds->srv->work)
        flags |= MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    else
        flags |= MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL | MHD_USE_ITC;
    if (ds->ss->ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    unsigned pool = c->http_threads > 1 ? (unsigned)c->http_threads : 0;
    ds->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, ds->srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, ds->srv,
        MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)ds->ss, MHD_OPTION_CONNECTION_LIMIT,
        c->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, c->timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, c->max_header, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, ds->srv, MHD_OPTION_NOTIFY_CONNECTION, on_connection, ds->srv,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, MHD_OPTION_THREAD_STACK_SIZE, (size_t)(512 * 1024),
        MHD_OPTION_THREAD_POOL_SIZE, pool, MHD_OPTION_END);
    return NULL;
}

int server_start(store *st, const server_config *c, struct server **out, werr *e)
{
    struct sockaddr_storage ss;
    int rc = parse_listen(c->listen, &ss, e);
    if (rc != WOK)
        return rc;
    struct server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    srv->st = st;
    srv->cfg = *c;
    /* Started here, before any HTTP thread exists, so that the priority
     * lane's threads keep the process's priority (the others lower their
     * own). Two threads: one per core of the smallest machine we serve a
     * county on. */
    if (lane_start(HTTP_LANE_THREADS, 0, "whistle-prio", &srv->lane) != WOK) {
        free(srv);
        return werr_set(e, W_EINTERNAL, "out_of_memory", "cannot start the priority lane");
    }
    if (c->http_threads > 0 &&
        lane_start(c->workers, c->connection_nice, "whistle-work", &srv->work) != WOK) {
        lane_stop(srv->lane);
        lane_free(srv->lane);
        free(srv);
        return werr_set(e, W_EINTERNAL, "out_of_memory", "cannot start %d worker threads",
                        c->workers);
    }
    struct daemon_start ds = {srv, &ss, NULL};
    pthread_t starter;
    if (pthread_create(&starter, NULL, start_daemon_niced, &ds) == 0)
        pthread_join(starter, NULL);
    srv->daemon = ds.daemon;
    if (!srv->daemon) {
        lane_stop(srv->work);
        lane_free(srv->work);
        lane_stop(srv->lane);
        lane_free(srv->lane);
        free(srv);
        return werr_set(e, W_EINTERNAL, "listen_failed",
                        "cannot listen on %s (address in use, or not allowed?)", c->listen);
    }
    *out = srv;
    return WOK;
}

void server_stop(struct server *srv)
{
    if (!srv)
        return;
    atomic_store(&srv->draining, 0);
    MHD_socket fd = MHD_quiesce_daemon(srv->daemon); /* stop accepting */
    /* Let requests in flight finish (at most 30 s). */
    for (int i = 0; i < 3000 && atomic_load(&srv->in_flight) > 0; i++)
        usleep(10000);
    atomic_store(&srv->draining, 1);
    /* The lanes finish what they hold and resume its connections before MHD
     * stops (it must not be stopped with a connection suspended); a request
     * that comes after gets its 503 on the event thread (serve_request). */
    lane_stop(srv->work);
    lane_stop(srv->lane);
    MHD_stop_daemon(srv->daemon);
    lane_free(srv->work);
    lane_free(srv->lane);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
    free(srv);
}

const server_config *server_get_config(const struct server *srv)
{
    return &srv->cfg;
}

unsigned server_open_connections(const struct server *srv)
{
    (void)srv;
    return metrics_open_connections();
}
