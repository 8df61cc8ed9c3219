/*
 * api_open311.c — the Open311 GeoReport v2 endpoints under /open311/v2/.
 * Every resource answers in the format its name ends with (.json or
 * .xml), errors included, in the specification's error format
 * ([{code, description}] / <errors><error>…). The router cannot split
 * "0201.json" into two parameters, so the handlers take the last
 * segment whole and split off the format themselves.
 *
 * api_key is a whistle API token (issued with `whistle token issue`):
 * required to POST a request, optional for reads (without it, a caller
 * gets the public view; with it, the token account's scope).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "auth.h"
#include "clock.h"
#include "form.h"
#include "open311.h"
#include "validate.h"

/* Splits "0201.json" into id "0201" and the format; -1 when the name does
 * not end in .json or .xml. */
static int split_format(const char *seg, char *id, size_t n)
{
    const char *dot = seg ? strrchr(seg, '.') : NULL;
    if (!dot || (size_t)(dot - seg) >= n || dot == seg)
        return -1;
    memcpy(id, seg, (size_t)(dot - seg));
    id[dot - seg] = '\0';
    if (strcmp(dot + 1, "json") == 0)
        return O311_JSON;
    if (strcmp(dot + 1, "xml") == 0)
        return O311_XML;
    return -1;
}

static int format_param(http_req *r)
{
    const char *f = req_param(r, "format");
    if (f && strcmp(f, "json") == 0)
        return O311_JSON;
    if (f && strcmp(f, "xml") == 0)
        return O311_XML;
    return -1;
}

static void answer(http_resp *w, int status, int format, json_t *v, const char *root,
                   const char *item)
{
    size_t len = 0;
    char *s = v ? o311_render(v, format, root, item, &len) : NULL;
    json_decref(v);
    if (!s) {
        resp_error(w, 500, "internal", "cannot render the answer");
        return;
    }
    resp_bytes(w, status,
               format == O311_XML ? "text/xml; charset=utf-8" : "application/json; charset=utf-8",
               s, len);
}

static void fail(http_resp *w, int format, int status, const char *description)
{
    answer(w, status, format < 0 ? O311_JSON : format, o311_error(status, description), "errors",
           "error");
}

/* The spec's status for a whistle error. */
static int o311_status(const werr *e)
{
    switch (e->rc) {
    case W_EINVALID:
    case W_EBADREQ:
        return 400;
    case W_EUNAUTH:
    case W_EFORBIDDEN:
        return 403;
    default:
        return werr_http_status(e->rc);
    }
}

static void fail_werr(http_resp *w, int format, const werr *e)
{
    fail(w, format, o311_status(e), e->message[0] ? e->message : "error");
}

static void unknown_format(http_resp *w)
{
    fail(w, O311_JSON, 404, "unknown format: use .json or .xml");
}

/* jurisdiction_id is optional; when given it must be ours. */
static int check_jurisdiction(http_req *r, http_resp *w, int format, const char *given)
{
    if (!given || !*given)
        return 1;
    char ours[64];
    db *d = store_reader(r->st);
    if (!d) {
        fail(w, format, 503, "database unavailable");
        return 0;
    }
    o311_jurisdiction(d, ours);
    store_release(r->st, d);
    if (strcmp(given, ours) != 0) {
        char msg[200];
        snprintf(msg, sizeof msg, "jurisdiction_id %.64s is not served here (this is %s)", given,
                 ours);
        fail(w, format, 404, msg);
        return 0;
    }
    return 1;
}

/* Resolves api_key (a whistle API token) into p. 0 (and an answer) when it
 * does not check out. */
static int resolve_key(http_req *r, http_resp *w, int format, const char *key, principal *p)
{
    if (!valid_text(key, 10, 200)) {
        fail(w, format, 403, "invalid api_key");
        return 0;
    }
    char auth[220];
    snprintf(auth, sizeof auth, "Bearer %s", key);
    werr e = {0};
    if (auth_resolve(r->st, auth, NULL, p, &e) != WOK || !p->user_id) {
        fail(w, format, 403, "invalid api_key");
        return 0;
    }
    return 1;
}

/* Dates from a query string: MHD decodes an unescaped '+' of "+08:00"
 * into a space; take it back. */
static int parse_date(const char *s, int64_t *t)
{
    char buf[64];
    size_t n = strlen(s);
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, s, n + 1);
    if (n > 6 && buf[n - 6] == ' ' && buf[n - 3] == ':')
        buf[n - 6] = '+';
    return clock_parse(buf, t);
}

/* ---- discovery, services --------------------------------------------------- */

void h_o311_discovery(http_req *r, http_resp *w)
{
    int format = format_param(r);
    if (format < 0) {
        unknown_format(w);
        return;
    }
    const char *host = req_header(r, "Host");
    const char *proto = req_header(r, "X-Forwarded-Proto");
    char base[300];
    snprintf(base, sizeof base, "%s://%s",
             proto && strcasecmp(proto, "https") == 0 ? "https" : "http",
             host && valid_text(host, 1, 200) && !strpbrk(host, "/<>\"' ") ? host : "localhost");
    db *d = store_reader(r->st);
    if (!d) {
        fail(w, format, 503, "database unavailable");
        return;
    }
    json_t *v = o311_discovery(d, base);
    store_release(r->st, d);
    answer(w, 200, format, v, "discovery", "endpoint");
}

void h_o311_services(http_req *r, http_resp *w)
{
    int format = format_param(r);
    if (format < 0) {
        unknown_format(w);
        return;
    }
    if (!check_jurisdiction(r, w, format, req_query(r, "jurisdiction_id")))
        return;
    werr e = {0};
    json_t *v = NULL;
    if (o311_services(r->st, &v, &e) != WOK) {
        fail_werr(w, format, &e);
        return;
    }
    answer(w, 200, format, v, "services", "service");
}

void h_o311_service(http_req *r, http_resp *w)
{
    char code[80];
    int format = split_format(req_param(r, "service_code"), code, sizeof code);
    if (format < 0) {
        unknown_format(w);
        return;
    }
    if (!check_jurisdiction(r, w, format, req_query(r, "jurisdiction_id")))
        return;
    werr e = {0};
    json_t *v = NULL;
    if (o311_service_definition(r->st, code, &v, &e) != WOK) {
        fail_werr(w, format, &e);
        return;
    }
    answer(w, 200, format, v, "service_definition", "attribute");
}

/* ---- requests ------------------------------------------------------------------ */

static double parse_coord(const char *s, double min, double max, int *ok)
{
    char *end;
    double v = s ? strtod(s, &end) : 0;
    *ok = s && *s && end != s && *end == '\0' && v >= min && v <= max;
    return v;
}

void h_o311_post(http_req *r, http_resp *w)
{
    int format = format_param(r);
    if (format < 0) {
        unknown_format(w);
        return;
    }
    const char *ct = req_header(r, "Content-Type");
    if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
        fail(w, format, 400, "the body must be application/x-www-form-urlencoded (GeoReport v2)");
        return;
    }
    form f;
    werr e = {0};
    if (form_parse(r->body, r->body_len, &f, &e) != WOK) {
        fail_werr(w, format, &e);
        return;
    }
    principal who;
    const char *key = form_get(&f, "api_key");
    if (!key || !*key) {
        form_free(&f);
        fail(w, format, 403, "api_key is required to create a service request");
        return;
    }
    if (!check_jurisdiction(r, w, format, form_get(&f, "jurisdiction_id")) ||
        !resolve_key(r, w, format, key, &who)) {
        form_free(&f);
        return;
    }
    o311_post in;
    memset(&in, 0, sizeof in);
    in.service_code = form_get(&f, "service_code");
    const char *lat = form_get(&f, "lat"), *lng = form_get(&f, "long");
    if ((lat && *lat) || (lng && *lng)) {
        int ok1, ok2;
        in.lat = parse_coord(lat, -90, 90, &ok1);
        in.lng = parse_coord(lng, -180, 180, &ok2);
        if (!ok1 || !ok2) {
            form_free(&f);
            fail(w, format, 400, "lat and long: both, as decimal degrees (WGS84)");
            return;
        }
        in.has_location = 1;
    }
    in.address_string = form_get(&f, "address_string");
    in.address_id = form_get(&f, "address_id");
    in.email = form_get(&f, "email");
    in.device_id = form_get(&f, "device_id");
    in.account_id = form_get(&f, "account_id");
    in.first_name = form_get(&f, "first_name");
    in.last_name = form_get(&f, "last_name");
    in.phone = form_get(&f, "phone");
    in.description = form_get(&f, "description");
    in.media_url = form_get(&f, "media_url");
    in.fields = &f;
    audit_actor a;
    audit_actor_from(&a, &who, r->ip, r->rid);
    json_t *v = NULL;
    int rc = o311_post_request(r->st, &who, &a, &in, &v, &e);
    form_free(&f);
    if (rc != WOK) {
        fail_werr(w, format, &e);
        return;
    }
    answer(w, 201, format, v, "service_requests", "request");
}

/* The reader: the api_key's account, else the caller's own login, else
 * NULL (the public view). 0 when an api_key was given and is wrong. */
static int reader(http_req *r, http_resp *w, int format, principal *p, const principal **who)
{
    const char *key = req_query(r, "api_key");
    *who = r->who;
    if (key && *key) {
        if (!resolve_key(r, w, format, key, p))
            return 0;
        *who = p;
    }
    return 1;
}

void h_o311_requests(http_req *r, http_resp *w)
{
    int format = format_param(r);
    if (format < 0) {
        unknown_format(w);
        return;
    }
    if (!check_jurisdiction(r, w, format, req_query(r, "jurisdiction_id")))
        return;
    principal p;
    const principal *who;
    if (!reader(r, w, format, &p, &who))
        return;
    o311_query q;
    memset(&q, 0, sizeof q);
    q.ids = req_query(r, "service_request_id");
    q.service_code = req_query(r, "service_code");
    q.status = req_query(r, "status");
    const char *sd = req_query(r, "start_date"), *ed = req_query(r, "end_date");
    if (sd && *sd) {
        if (parse_date(sd, &q.start) != 0) {
            fail(w, format, 400,
                 "start_date: not an ISO 8601 date/time (e.g. 2026-11-23T08:00:00+08:00)");
            return;
        }
        q.has_start = 1;
    }
    if (ed && *ed) {
        if (parse_date(ed, &q.end) != 0) {
            fail(w, format, 400,
                 "end_date: not an ISO 8601 date/time (e.g. 2026-11-23T18:00:00+08:00)");
            return;
        }
        q.has_end = 1;
    }
    if (q.has_start && q.has_end && q.end - q.start > 90 * 86400) {
        fail(w, format, 400, "start_date to end_date may not span more than 90 days");
        return;
    }
    if (q.has_start && !q.has_end && q.start + 90 * 86400 < clock_now()) {
        q.end = q.start + 90 * 86400;
        q.has_end = 1;
    }
    if ((q.ids && !valid_text(q.ids, 1, 2000)) ||
        (q.service_code && !valid_text(q.service_code, 1, 500)) ||
        (q.status && !valid_text(q.status, 1, 20))) {
        fail(w, format, 400, "service_request_id, service_code or status: bad value");
        return;
    }
    werr e = {0};
    json_t *v = NULL;
    if (o311_requests(r->st, who, &q, &v, &e) != WOK) {
        fail_werr(w, format, &e);
        return;
    }
    answer(w, 200, format, v, "service_requests", "request");
}

void h_o311_request(http_req *r, http_resp *w)
{
    char id[40];
    int format = split_format(req_param(r, "service_request_id"), id, sizeof id);
    if (format < 0) {
        unknown_format(w);
        return;
    }
    if (!check_jurisdiction(r, w, format, req_query(r, "jurisdiction_id")))
        return;
    principal p;
    const principal *who;
    if (!reader(r, w, format, &p, &who))
        return;
    char *end;
    long long n = strtoll(id, &end, 10);
    if (*end || end == id || n < 1) {
        fail(w, format, 404, "service_request_id not found");
        return;
    }
    o311_query q;
    memset(&q, 0, sizeof q);
    q.ids = id;
    werr e = {0};
    json_t *v = NULL;
    if (o311_requests(r->st, who, &q, &v, &e) != WOK) {
        fail_werr(w, format, &e);
        return;
    }
    if (json_array_size(v) == 0) {
        json_decref(v);
        fail(w, format, 404, "service_request_id not found");
        return;
    }
    answer(w, 200, format, v, "service_requests", "request");
}

void h_o311_token(http_req *r, http_resp *w)
{
    char token[40];
    int format = split_format(req_param(r, "token"), token, sizeof token);
    if (format < 0) {
        unknown_format(w);
        return;
    }
    if (!check_jurisdiction(r, w, format, req_query(r, "jurisdiction_id")))
        return;
    if (!valid_code(token)) {
        fail(w, format, 404, "token not found");
        return;
    }
    werr e = {0};
    json_t *v = NULL;
    if (o311_token(r->st, token, &v, &e) != WOK) {
        fail_werr(w, format, &e);
        return;
    }
    answer(w, 200, format, v, "service_requests", "request");
}
