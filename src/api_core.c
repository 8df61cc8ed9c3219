/*
 * api_core.c — handlers for operations (health, metrics), sessions, users,
 * API tokens, departments and the audit trail.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "audit.h"
#include "auth.h"
#include "clock.h"
#include "department.h"
#include "metrics.h"
#include "settings.h"
#include "user.h"
#include "validate.h"

/* ---- operations ------------------------------------------------------ */

void h_healthz(http_req *r, http_resp *w)
{
    db *d = store_reader(r->st);
    int ok = 0;
    if (d) {
        db_stmt *s = db_query(d, "SELECT count(*) FROM schema_migrations", "");
        ok = s && db_step(s) == DB_ROW;
        db_done(s);
        store_release(r->st, d);
    }
    if (!ok) {
        resp_error(w, 503, "database_unavailable", "database check failed");
        return;
    }
    resp_json(w, 200, json_pack("{s:s, s:i, s:s}", "status", "ok", "schema_version",
                                store_schema_version(r->st), "version", WHISTLE_VERSION));
}

void h_metrics(http_req *r, http_resp *w)
{
    wbuf b = WBUF_INIT;
    metrics_render(&b, r->st);
    size_t len;
    char *s = wbuf_steal(&b, &len);
    if (!s) {
        resp_error(w, 500, "out_of_memory", "out of memory");
        return;
    }
    resp_bytes(w, 200, "text/plain; version=0.0.4; charset=utf-8", s, len);
}

/* Does no work: the HTTP ceiling for benchmarks. */
void h_ping(http_req *r, http_resp *w)
{
    (void)r;
    static const char pong[] = "{\"ok\":true}";
    resp_static(w, 200, "application/json", (const unsigned char *)pong, sizeof pong - 1);
}

void h_version(http_req *r, http_resp *w)
{
    (void)r;
    resp_json(w, 200, json_pack("{s:s, s:i}", "version", WHISTLE_VERSION, "schema_version",
                                store_schema_latest()));
}

/* ---- sessions -------------------------------------------------------- */

void h_login(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *login = NULL, *password = NULL;
    if (jfield_text(r->json, "login", FIELD_REQUIRED, 1, 64, &login, &e) != WOK ||
        jfield_text(r->json, "password", FIELD_REQUIRED, 1, 128, &password, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    if (!auth_rate_allow(r->ip)) {
        resp_error(w, 429, "too_many_attempts", "登录尝试过多，请稍后再试 (too many login "
                                                "attempts from this address; wait a few minutes)");
        resp_header(w, "Retry-After", "300");
        return;
    }
    char token[65];
    principal p;
    if (auth_login(r->st, login, password, r->ip, r->rid, token, &p, &e) != WOK) {
        if (e.rc == W_ETOOMANY)
            resp_header(w, "Retry-After", "900");
        resp_werr(w, &e);
        return;
    }
    char cookie[256];
    int secure = server_get_config(r->srv)->secure_cookies;
    snprintf(cookie, sizeof cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%d%s",
             AUTH_COOKIE, token, AUTH_SESSION_MAX_SECONDS, secure ? "; Secure" : "");
    resp_header(w, "Set-Cookie", cookie);
    json_t *user = principal_to_json(&p);
    resp_json(w, 200, json_pack("{s:o, s:s}", "user", user, "csrf_token", p.csrf));
}

void h_logout(http_req *r, http_resp *w)
{
    werr e = {0};
    audit_actor a;
    req_actor(r, &a);
    if (auth_logout(r->st, r->who, &a, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    char cookie[128];
    snprintf(cookie, sizeof cookie, "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
             AUTH_COOKIE);
    resp_header(w, "Set-Cookie", cookie);
    resp_json(w, 200, json_pack("{s:b}", "ok", 1));
}

void h_me(http_req *r, http_resp *w)
{
    json_t *u = principal_to_json(r->who);
    json_t *perms = json_array();
    for (const char *const *g = perm_grants(r->who->role); *g; g++)
        json_array_append_new(perms, json_string(*g));
    json_t *o = json_pack("{s:o, s:o}", "user", u, "permissions", perms);
    if (r->who->csrf[0])
        json_object_set_new(o, "csrf_token", json_string(r->who->csrf));
    resp_json(w, 200, o);
}

/* ---- users ----------------------------------------------------------- */

static void read_then(http_req *r, http_resp *w, int (*fn)(db *, void *, json_t **, werr *),
                      void *arg)
{
    werr e = {0};
    json_t *out = NULL;
    db *d = req_reader(r, w);
    if (!d)
        return;
    int rc = fn(d, arg, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

struct list_args {
    const char *role;
    int64_t after, limit, id;
};

static int do_users_list(db *d, void *arg, json_t **out, werr *e)
{
    struct list_args *a = arg;
    return user_list(d, a->role, a->after, (int)a->limit, out, e);
}

void h_users_list(http_req *r, http_resp *w)
{
    werr e = {0};
    struct list_args a = {NULL, 0, 100, 0};
    if (qfield_text(r, "role", FIELD_OPTIONAL, 32, &a.role, &e) != WOK ||
        qfield_int(r, "cursor", FIELD_OPTIONAL, 0, INT64_MAX, &a.after, &e) != WOK ||
        qfield_int(r, "limit", FIELD_OPTIONAL, 1, 500, &a.limit, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    read_then(r, w, do_users_list, &a);
}

void h_users_create(http_req *r, http_resp *w)
{
    werr e = {0};
    user_input in = {0};
    int64_t dept = 0;
    if (jfield_text(r->json, "login", FIELD_REQUIRED, 3, 64, &in.login, &e) != WOK ||
        jfield_text(r->json, "name", FIELD_REQUIRED, 1, 64, &in.name, &e) != WOK ||
        jfield_text(r->json, "phone", FIELD_OPTIONAL, 0, 20, &in.phone, &e) != WOK ||
        jfield_text(r->json, "role", FIELD_REQUIRED, 1, 32, &in.role, &e) != WOK ||
        jfield_text(r->json, "scope_kind", FIELD_OPTIONAL, 1, 16, &in.scope_kind, &e) != WOK ||
        jfield_text(r->json, "scope_grid", FIELD_OPTIONAL, 1, 64, &in.scope_grid, &e) != WOK ||
        jfield_int(r->json, "scope_dept", FIELD_OPTIONAL, 1, INT64_MAX, &dept, &e) != WOK ||
        jfield_text(r->json, "password", FIELD_OPTIONAL, 8, 128, &in.password, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    in.scope_dept = dept;
    audit_actor a;
    req_actor(r, &a);
    int64_t id = 0;
    if (user_create(r->st, &a, &in, &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    db *d = store_reader(r->st);
    json_t *u = NULL;
    if (d && user_get(d, id, &u, &e) == WOK) {
        store_release(r->st, d);
        resp_json(w, 201, u);
        return;
    }
    store_release(r->st, d);
    resp_json(w, 201, json_pack("{s:I}", "id", (json_int_t)id));
}

static int do_user_get(db *d, void *arg, json_t **out, werr *e)
{
    return user_get(d, ((struct list_args *)arg)->id, out, e);
}

void h_users_get(http_req *r, http_resp *w)
{
    werr e = {0};
    struct list_args a = {0};
    if (param_id(r, "id", &a.id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    read_then(r, w, do_user_get, &a);
}

void h_users_password(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id;
    const char *pw = NULL;
    if (param_id(r, "id", &id, &e) != WOK ||
        jfield_text(r->json, "password", FIELD_REQUIRED, 8, 128, &pw, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    if (user_set_password(r->st, &a, id, pw, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 200, json_pack("{s:b}", "ok", 1));
}

static void set_locked(http_req *r, http_resp *w, int lock)
{
    werr e = {0};
    int64_t id;
    if (param_id(r, "id", &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    if (user_set_locked(r->st, &a, id, lock, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 200, json_pack("{s:b}", "ok", 1));
}

void h_users_lock(http_req *r, http_resp *w)
{
    set_locked(r, w, 1);
}

void h_users_unlock(http_req *r, http_resp *w)
{
    set_locked(r, w, 0);
}

/* ---- tokens ---------------------------------------------------------- */

static int do_tokens_list(db *d, void *arg, json_t **out, werr *e)
{
    (void)arg;
    return auth_token_list(d, out, e);
}

void h_tokens_list(http_req *r, http_resp *w)
{
    read_then(r, w, do_tokens_list, NULL);
}

void h_tokens_issue(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t user_id = 0, days = 0;
    const char *label = NULL;
    if (jfield_int(r->json, "user_id", FIELD_REQUIRED, 1, INT64_MAX, &user_id, &e) != WOK ||
        jfield_text(r->json, "label", FIELD_REQUIRED, 1, 100, &label, &e) != WOK ||
        jfield_int(r->json, "expires_in_days", FIELD_OPTIONAL, 1, 3650, &days, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    char token[64];
    int64_t id;
    if (auth_token_issue(r->st, &a, user_id, label, days ? clock_now() + days * 86400 : 0, token,
                         &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 201, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "token", token, "note",
                                "shown once: store it now"));
}

void h_tokens_revoke(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id;
    if (param_id(r, "id", &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    if (auth_token_revoke(r->st, &a, id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 200, json_pack("{s:b}", "ok", 1));
}

/* ---- audit ----------------------------------------------------------- */

static int do_audit(db *d, void *arg, json_t **out, werr *e)
{
    return audit_list(d, arg, out, e);
}

void h_audit_list(http_req *r, http_resp *w)
{
    werr e = {0};
    audit_query q = {0};
    int64_t limit = 50, cursor = 0, user = 0;
    if (qfield_text(r, "object_type", FIELD_OPTIONAL, 40, &q.object_type, &e) != WOK ||
        qfield_text(r, "object_id", FIELD_OPTIONAL, 64, &q.object_id, &e) != WOK ||
        qfield_int(r, "user_id", FIELD_OPTIONAL, 1, INT64_MAX, &user, &e) != WOK ||
        qfield_text(r, "since", FIELD_OPTIONAL, 40, &q.since, &e) != WOK ||
        qfield_text(r, "until", FIELD_OPTIONAL, 40, &q.until, &e) != WOK ||
        qfield_int(r, "cursor", FIELD_OPTIONAL, 1, INT64_MAX, &cursor, &e) != WOK ||
        qfield_int(r, "limit", FIELD_OPTIONAL, 1, 500, &limit, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    /* Normalise times so that string comparison in SQL is exact. */
    char since[32], until[32];
    int64_t t;
    if (q.since) {
        if (clock_parse(q.since, &t) != 0) {
            resp_error(w, 422, "invalid_query", "since: not a date or time (RFC 3339)");
            return;
        }
        clock_format(t, since);
        q.since = since;
    }
    if (q.until) {
        if (clock_parse(q.until, &t) != 0) {
            resp_error(w, 422, "invalid_query", "until: not a date or time (RFC 3339)");
            return;
        }
        clock_format(t, until);
        q.until = until;
    }
    q.user_id = user;
    q.before_id = cursor;
    q.limit = (int)limit;
    read_then(r, w, do_audit, &q);
}

/* ---- test clock (only with `serve --test-clock`) ----------------------- */

void h_test_clock(http_req *r, http_resp *w)
{
    if (!server_get_config(r->srv)->test_clock) {
        resp_error(w, 404, "not_found", "no such resource: %s", r->path);
        return;
    }
    werr e = {0};
    int64_t off = 0;
    if (jfield_int(r->json, "offset_seconds", FIELD_REQUIRED, 0, 10LL * 366 * 86400, &off, &e) !=
        WOK) {
        resp_werr(w, &e);
        return;
    }
    clock_set_offset(off);
    resp_json(w, 200, json_pack("{s:I}", "now", (json_int_t)clock_now()));
}

/* ---- departments ----------------------------------------------------- */

static int do_depts(db *d, void *arg, json_t **out, werr *e)
{
    (void)arg;
    return department_list(d, out, e);
}

void h_departments_list(http_req *r, http_resp *w)
{
    read_then(r, w, do_depts, NULL);
}

void h_departments_create(http_req *r, http_resp *w)
{
    werr e = {0};
    department_input in = {0};
    if (jfield_text(r->json, "code", FIELD_REQUIRED, 1, 32, &in.code, &e) != WOK ||
        jfield_text(r->json, "name", FIELD_REQUIRED, 1, 64, &in.name, &e) != WOK ||
        jfield_text(r->json, "name_en", FIELD_OPTIONAL, 0, 100, &in.name_en, &e) != WOK ||
        jfield_text(r->json, "kind", FIELD_OPTIONAL, 1, 20, &in.kind, &e) != WOK ||
        jfield_text(r->json, "contact", FIELD_OPTIONAL, 0, 64, &in.contact, &e) != WOK ||
        jfield_text(r->json, "phone", FIELD_OPTIONAL, 0, 20, &in.phone, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    int64_t id;
    if (department_create(r->st, &a, &in, &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 201, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "code", in.code, "name",
                                in.name));
}

/* ---- settings -------------------------------------------------------- */

struct settings_args {
    int public_only;
};

static int do_settings(db *d, void *arg, json_t **out, werr *e)
{
    return settings_list(d, ((struct settings_args *)arg)->public_only, out, e);
}

void h_settings_list(http_req *r, http_resp *w)
{
    struct settings_args a = {0};
    read_then(r, w, do_settings, &a);
}

void h_public_settings(http_req *r, http_resp *w)
{
    struct settings_args a = {1};
    read_then(r, w, do_settings, &a);
}

void h_settings_put(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *key = req_param(r, "key");
    json_t *value = json_object_get(r->json, "value");
    if (!value) {
        resp_error(w, 422, "missing_field", "value: required");
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    if (settings_put(r->st, &a, key, value, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    struct settings_args sa = {0};
    read_then(r, w, do_settings, &sa);
}
