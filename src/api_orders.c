/*
 * api_orders.c — HTTP handlers for work orders (吹哨报到): reports, queues,
 * order details, the actions of the state machine (one route each, one
 * handler for all), public tracking by code, photos, the event catalogue
 * and the working-day calendar. Inputs are validated here; the rules live
 * in order.c / catalog.c / calendar.c.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "attachment.h"
#include "audit.h"
#include "calendar.h"
#include "catalog.h"
#include "clock.h"
#include "order.h"
#include "validate.h"

static int db_unavailable(http_resp *w)
{
    resp_error(w, 503, "database_unavailable", "database unavailable");
    return 0;
}

/* ---- reports ------------------------------------------------------------------ */

static int valid_idem_key(const char *k)
{
    size_t n = k ? strlen(k) : 0;
    if (n < 1 || n > 64)
        return 0;
    for (const char *p = k; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            return 0;
    return 1;
}

/* POST /api/v1/reports — public (anonymous with a phone) or logged in. */
void h_reports_create(http_req *r, http_resp *w)
{
    werr e = {0};
    if (r->who && !perm_allows(r->who->role, "order.report")) {
        resp_error(w, 403, "forbidden", "无权限 (role %s may not order.report)",
                   role_name(r->who->role));
        return;
    }
    order_report_input in;
    if (order_report_parse(r->json, &in, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    const char *hk = req_header(r, "Idempotency-Key");
    if (hk) {
        if (!valid_idem_key(hk)) {
            resp_error(w, 422, "invalid_field",
                       "Idempotency-Key: 1 to 64 printable ASCII characters");
            return;
        }
        in.idempotency_key = hk;
    }
    audit_actor a;
    req_actor(r, &a);
    json_t *out = NULL;
    int created = 0;
    if (order_report(r->st, r->who, &a, &in, &out, &created, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, created ? 201 : 200, out);
}

/* ---- queues and details ---------------------------------------------------------- */

static const char *const queue_values[] = {"all", "dispatch", "department", "grid", "overdue",
                                           "mine", NULL};

static int parse_query(http_req *r, order_query *q, werr *e)
{
    memset(q, 0, sizeof *q);
    const char *from = NULL, *to = NULL, *near = NULL;
    int64_t limit = 50;
    if (qfield_enum(r, "queue", FIELD_OPTIONAL, queue_values, &q->queue, e) != WOK ||
        qfield_text(r, "category", FIELD_OPTIONAL, 31, &q->category, e) != WOK ||
        qfield_text(r, "state", FIELD_OPTIONAL, 20, &q->state, e) != WOK ||
        qfield_text(r, "level", FIELD_OPTIONAL, 10, &q->level, e) != WOK ||
        qfield_int(r, "dept", FIELD_OPTIONAL, 1, INT32_MAX, &q->dept_id, e) != WOK ||
        qfield_text(r, "grid", FIELD_OPTIONAL, 63, &q->grid, e) != WOK ||
        qfield_text(r, "from", FIELD_OPTIONAL, 32, &from, e) != WOK ||
        qfield_text(r, "to", FIELD_OPTIONAL, 32, &to, e) != WOK ||
        qfield_text(r, "q", FIELD_OPTIONAL, 100, &q->q, e) != WOK ||
        qfield_text(r, "near", FIELD_OPTIONAL, 64, &near, e) != WOK ||
        qfield_text(r, "cursor", FIELD_OPTIONAL, 64, &q->cursor, e) != WOK ||
        qfield_int(r, "limit", FIELD_OPTIONAL, 1, ORDER_PAGE_MAX, &limit, e) != WOK)
        return e->rc;
    q->limit = (int)limit;
    if (q->category && !valid_code(q->category))
        return werr_set(e, W_EINVALID, "invalid_field", "category: a category code");
    if (q->grid && !valid_code(q->grid))
        return werr_set(e, W_EINVALID, "invalid_field", "grid: a grid code");
    if (q->state && order_state_parse(q->state) == OS_NONE)
        return werr_set(e, W_EINVALID, "invalid_field", "state: unknown state %s", q->state);
    if (q->level && level_parse(q->level) < 0)
        return werr_set(e, W_EINVALID, "invalid_field", "level: community, street or county");
    if (from && clock_parse(from, &q->from) != 0)
        return werr_set(e, W_EINVALID, "invalid_field", "from: a date or RFC 3339 time");
    if (to && clock_parse(to, &q->to) != 0)
        return werr_set(e, W_EINVALID, "invalid_field", "to: a date or RFC 3339 time");
    if (q->q && !valid_text(q->q, 1, 100))
        return werr_set(e, W_EINVALID, "invalid_field", "q: 1 to 100 characters of text");
    if (near) {
        double lat, lng, rad;
        char tail;
        if (sscanf(near, "%lf,%lf,%lf%c", &lat, &lng, &rad, &tail) != 3 || !isfinite(lat) ||
            !isfinite(lng) || !isfinite(rad) || lat < -90 || lat > 90 || lng < -180 ||
            lng > 180 || rad <= 0 || rad > 50000)
            return werr_set(e, W_EINVALID, "invalid_field",
                            "near: lat,lng,radius_in_metres (radius up to 50000)");
        q->has_near = 1;
        q->lat = lat;
        q->lng = lng;
        q->radius_m = rad;
    }
    return WOK;
}

static void list_common(http_req *r, http_resp *w, const char *force_queue)
{
    werr e = {0};
    order_query q;
    if (parse_query(r, &q, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    if (force_queue)
        q.queue = force_queue;
    db *d = store_snapshot(r->st);
    if (!d) {
        db_unavailable(w);
        return;
    }
    wbuf out = WBUF_INIT;
    int rc = order_list(d, r->who, &q, &out, &e);
    store_release(r->st, d);
    if (rc != WOK) {
        wbuf_free(&out);
        resp_werr(w, &e);
    } else {
        resp_json_text(w, 200, &out);
    }
}

void h_orders_list(http_req *r, http_resp *w) { list_common(r, w, NULL); }

int orders_list_is_cheap(const http_req *r)
{
    return !req_query(r, "q") && !req_query(r, "near");
}
void h_orders_mine(http_req *r, http_resp *w) { list_common(r, w, "mine"); }

void h_orders_counts(http_req *r, http_resp *w)
{
    werr e = {0};
    db *d = store_snapshot(r->st);
    if (!d) {
        db_unavailable(w);
        return;
    }
    json_t *out = NULL;
    int rc = order_counts(d, r->who, &out, &e);
    store_release(r->st, d);
    if (rc != WOK)
        resp_werr(w, &e);
    else
        resp_json(w, 200, out);
}

void h_orders_get(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id;
    if (param_id(r, "id", &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    db *d = store_snapshot(r->st);
    if (!d) {
        db_unavailable(w);
        return;
    }
    wbuf out = WBUF_INIT;
    int rc = order_get(d, r->who, id, &out, &e);
    store_release(r->st, d);
    if (rc != WOK) {
        wbuf_free(&out);
        resp_werr(w, &e);
    } else {
        resp_json_text(w, 200, &out);
    }
}

/* POST /api/v1/orders/{id}/{action}: one route per action in routes.c, all
 * served here; the action is the last segment of the route's pattern. */
void h_orders_action(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id;
    if (param_id(r, "id", &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    const char *slash = strrchr(r->route->pattern, '/');
    int action = slash ? order_action_parse_api(slash + 1) : -1;
    if (action < 0) {
        resp_error(w, 404, "not_found", "no such action");
        return;
    }
    order_action_input in;
    if (order_action_parse(action, r->json, &in, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    wbuf out = WBUF_INIT;
    if (order_act(r->st, r->who, &a, id, &in, &out, &e) != WOK) {
        wbuf_free(&out);
        resp_werr(w, &e);
        return;
    }
    if (out.len)
        resp_json_text(w, 200, &out);
    else { /* done, but the order could not be read back */
        wbuf_free(&out);
        resp_json(w, 200, json_pack("{s:I}", "id", (json_int_t)id));
    }
}

/* ---- public tracking ----------------------------------------------------------- */

static int valid_track_code(const char *c)
{
    if (!c || strlen(c) != 8)
        return 0;
    for (const char *p = c; *p; p++)
        if (!((*p >= '2' && *p <= '9') || (*p >= 'A' && *p <= 'Z')))
            return 0;
    return 1;
}

void h_track(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *code = req_param(r, "code");
    if (!valid_track_code(code)) {
        resp_error(w, 404, "not_found", "没有这个查询码 (no such tracking code)");
        return;
    }
    db *d = store_snapshot(r->st);
    if (!d) {
        db_unavailable(w);
        return;
    }
    wbuf out = WBUF_INIT;
    int rc = order_track(d, code, &out, &e);
    store_release(r->st, d);
    if (rc != WOK) {
        wbuf_free(&out);
        resp_werr(w, &e);
    } else {
        resp_json_text(w, 200, &out);
    }
}

static const char *const rating_values[] = {"satisfied", "basic", "unsatisfied", NULL};

void h_track_rate(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *code = req_param(r, "code");
    const char *rating = NULL, *comment = NULL, *last4 = NULL;
    if (!valid_track_code(code)) {
        resp_error(w, 404, "not_found", "没有这个查询码 (no such tracking code)");
        return;
    }
    if (jfield_enum(r->json, "rating", FIELD_REQUIRED, rating_values, &rating, &e) != WOK ||
        jfield_multiline(r->json, "comment", FIELD_OPTIONAL, 1, 1000, &comment, &e) != WOK ||
        jfield_text(r->json, "phone_last4", FIELD_OPTIONAL, 4, 4, &last4, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    if (order_track_rate(r->st, r->who, &a, code, last4, rating, comment, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    db *d = store_reader(r->st);
    wbuf out = WBUF_INIT;
    if (d && order_track(d, code, &out, &e) == WOK) {
        store_release(r->st, d);
        resp_json_text(w, 200, &out);
        return;
    }
    store_release(r->st, d);
    wbuf_free(&out);
    resp_json(w, 200, json_pack("{s:s}", "code", code));
}

/* ---- attachments ----------------------------------------------------------------- */

void h_attachments_upload(http_req *r, http_resp *w)
{
    werr e = {0};
    if (r->who && !perm_allows(r->who->role, "order.report") &&
        !perm_allows(r->who->role, "order.handle") && !perm_allows(r->who->role, "order.verify")) {
        resp_error(w, 403, "forbidden", "无权限 (role %s may not upload photos)",
                   role_name(r->who->role));
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    int64_t id = 0;
    char sha[65];
    const char *mime = NULL;
    if (attachment_store(r->st, &a, r->who ? r->who->user_id : 0, r->body, r->body_len, &id, sha,
                         &mime, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 201, json_pack("{s:I, s:s, s:s, s:I}", "id", (json_int_t)id, "sha256", sha,
                                "mime", mime, "size", (json_int_t)r->body_len));
}

void h_attachments_get(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id;
    const char *track = NULL;
    if (param_id(r, "id", &id, &e) != WOK ||
        qfield_text(r, "track", FIELD_OPTIONAL, 8, &track, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    if (track && !valid_track_code(track))
        track = NULL;
    db *d = store_reader(r->st);
    if (!d) {
        db_unavailable(w);
        return;
    }
    if (!order_attachment_visible(d, r->who, id, track)) {
        store_release(r->st, d);
        if (!r->who && !track)
            resp_error(w, 401, "login_required", "请先登录 (login or give ?track=CODE)");
        else
            resp_error(w, 403, "forbidden", "无权查看该照片 (this photo belongs to an order "
                                            "outside your scope)");
        return;
    }
    void *data = NULL;
    size_t len = 0;
    const char *mime = NULL;
    char sha[65];
    int rc = attachment_read(d, id, &data, &len, &mime, sha, &e);
    store_release(r->st, d);
    if (rc != WOK) {
        resp_werr(w, &e);
        return;
    }
    char etag[70];
    snprintf(etag, sizeof etag, "\"%s\"", sha);
    resp_header(w, "ETag", etag);
    resp_header(w, "Cache-Control", "private, max-age=86400, immutable");
    resp_bytes(w, 200, mime, data, len);
}

/* ---- catalogue ----------------------------------------------------------------- */

void h_catalog_public(http_req *r, http_resp *w)
{
    catalog *c = catalog_current(r->st);
    if (!c) {
        resp_error(w, 404, "no_catalog", "no catalogue has been loaded");
        return;
    }
    size_t n = strlen(c->public_json);
    char *body = malloc(n + 1);
    if (body)
        memcpy(body, c->public_json, n + 1);
    catalog_release(c);
    if (!body) {
        resp_error(w, 500, "out_of_memory", "out of memory");
        return;
    }
    resp_header(w, "Cache-Control", "public, max-age=60");
    resp_bytes(w, 200, "application/json", body, n);
}

static void send_catalog(http_resp *w, catalog *c)
{
    json_t *doc = json_deep_copy(c->doc);
    json_object_set_new(doc, "version", json_integer(c->version));
    resp_json(w, 200, doc);
}

void h_catalog_get(http_req *r, http_resp *w)
{
    catalog *c = catalog_current(r->st);
    if (!c) {
        resp_error(w, 404, "no_catalog", "no catalogue has been loaded");
        return;
    }
    send_catalog(w, c);
    catalog_release(c);
}

void h_catalog_put(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *note = NULL;
    if (jfield_text(r->json, "note", FIELD_OPTIONAL, 1, 200, &note, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    int version = 0;
    if (catalog_save(r->st, &a, r->body, r->body_len, note ? note : "import", &version, &e) !=
        WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 201, json_pack("{s:i}", "version", version));
}

void h_catalog_put_category(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *code = req_param(r, "code");
    if (!code || !valid_code(code) || strlen(code) >= CAT_CODE_MAX) {
        resp_error(w, 422, "invalid_field", "code: a category code");
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    int version = 0;
    if (catalog_put_category(r->st, &a, code, r->json, &version, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 200, json_pack("{s:i, s:s}", "version", version, "code", code));
}

void h_catalog_versions(http_req *r, http_resp *w)
{
    werr e = {0};
    db *d = store_reader(r->st);
    if (!d) {
        db_unavailable(w);
        return;
    }
    json_t *out = NULL;
    int rc = catalog_versions(d, &out, &e);
    store_release(r->st, d);
    if (rc != WOK)
        resp_werr(w, &e);
    else
        resp_json(w, 200, out);
}

void h_catalog_version_get(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t v;
    if (param_id(r, "version", &v, &e) != WOK || v > INT32_MAX) {
        resp_error(w, 404, "not_found", "no such catalogue version");
        return;
    }
    catalog *c = catalog_version(r->st, (int)v);
    if (!c) {
        resp_error(w, 404, "not_found", "no catalogue version %lld", (long long)v);
        return;
    }
    send_catalog(w, c);
    catalog_free(c);
}

/* ---- calendar -------------------------------------------------------------------- */

static int year_param(http_req *r, int *year)
{
    int64_t y;
    werr e;
    if (param_id(r, "year", &y, &e) != WOK || y < CAL_MIN_YEAR || y > CAL_MAX_YEAR)
        return -1;
    *year = (int)y;
    return 0;
}

void h_calendar_get(http_req *r, http_resp *w)
{
    werr e = {0};
    int year;
    if (year_param(r, &year) != 0) {
        resp_error(w, 404, "not_found", "year: %d to %d", CAL_MIN_YEAR, CAL_MAX_YEAR);
        return;
    }
    json_t *out = NULL;
    if (calendar_get_year(r->st, year, &out, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 200, out);
}

void h_calendar_put(http_req *r, http_resp *w)
{
    werr e = {0};
    int year;
    if (year_param(r, &year) != 0) {
        resp_error(w, 404, "not_found", "year: %d to %d", CAL_MIN_YEAR, CAL_MAX_YEAR);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    if (calendar_save_year(r->st, &a, year, r->body, r->body_len, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    json_t *out = NULL;
    if (calendar_get_year(r->st, year, &out, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 200, out);
}

/* GET /api/v1/calendar/deadline?start=…&hours=…&time=working|natural —
 * what a deadline would be (for the console and for checking rules). */
void h_calendar_deadline(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *start = NULL, *mode = NULL;
    int64_t minutes = 0;
    static const char *const modes[] = {"working", "natural", NULL};
    if (qfield_text(r, "start", FIELD_OPTIONAL, 32, &start, &e) != WOK ||
        qfield_int(r, "minutes", FIELD_REQUIRED, 1, 60 * 24 * 365, &minutes, &e) != WOK ||
        qfield_enum(r, "time", FIELD_OPTIONAL, modes, &mode, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    int64_t t0 = clock_now();
    if (start && clock_parse(start, &t0) != 0) {
        resp_error(w, 422, "invalid_field", "start: a date or RFC 3339 time");
        return;
    }
    calendar cal;
    calendar_current(&cal);
    int working = !mode || strcmp(mode, "working") == 0;
    char a[32], b[32];
    clock_format(t0, a);
    clock_format(calendar_add(&cal, t0, minutes, working), b);
    resp_json(w, 200, json_pack("{s:s, s:I, s:s, s:s}", "start", a, "minutes",
                                (json_int_t)minutes, "time", working ? "working" : "natural",
                                "deadline", b));
}
