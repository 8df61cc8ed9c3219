#include "auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crypto.h"
#include "log.h"

/* ---- login ---------------------------------------------------------- */

struct login_ctx {
    int64_t user_id;
    int ok;            /* password matched */
    const char *login;
    const char *ip;
    const char *rid;
    char token_hash[65];
    char csrf[65];
    int locked_now;    /* this failure locked the account */
    werr *e;
};

static int login_tx(db *d, void *arg)
{
    struct login_ctx *c = arg;
    audit_actor a;
    memset(&a, 0, sizeof a);
    a.user_id = c->user_id;
    snprintf(a.login, sizeof a.login, "%s", c->login);
    a.role = "anonymous";
    snprintf(a.ip, sizeof a.ip, "%s", c->ip ? c->ip : "");
    snprintf(a.rid, sizeof a.rid, "%s", c->rid ? c->rid : "");
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->user_id);
    int64_t now = clock_now();
    if (!c->ok) {
        if (c->user_id == 0) /* unknown login: audit the attempt only */
            return audit_record(d, &a, "auth.login_failed", "login", c->login, NULL);
        db_stmt *s = db_query(d, "SELECT failed_logins FROM users WHERE id = ?", "I", c->user_id);
        int failures = (s && db_step(s) == DB_ROW) ? db_col_int(s, 0) + 1 : 1;
        db_done(s);
        if (failures >= AUTH_MAX_FAILURES) {
            c->locked_now = 1;
            if (db_exec(d, "UPDATE users SET failed_logins = 0, locked_until = ? WHERE id = ?",
                        "II", now + AUTH_LOCK_SECONDS, c->user_id) != WOK)
                return W_EINTERNAL;
        } else if (db_exec(d, "UPDATE users SET failed_logins = ? WHERE id = ?", "iI", failures,
                           c->user_id) != WOK) {
            return W_EINTERNAL;
        }
        json_t *detail = json_pack("{s:i, s:b}", "failures", failures, "locked", c->locked_now);
        int rc = audit_record(d, &a, c->locked_now ? "auth.locked" : "auth.login_failed", "user",
                              idbuf, detail);
        json_decref(detail);
        return rc;
    }
    if (db_exec(d, "UPDATE users SET failed_logins = 0 WHERE id = ?", "I", c->user_id) != WOK)
        return W_EINTERNAL;
    if (db_exec(d, "INSERT INTO sessions (token_hash, csrf_token, user_id, created_at, last_seen, "
                   "expires_at, ip) VALUES (?, ?, ?, ?, ?, ?, ?)",
                "ttIIIIt", c->token_hash, c->csrf, c->user_id, now, now,
                now + AUTH_SESSION_MAX_SECONDS, c->ip) != WOK)
        return W_EINTERNAL;
    return audit_record(d, &a, "auth.login", "user", idbuf, NULL);
}

static void fill_principal(db_stmt *s, int first, principal *p)
{
    /* columns from `first`: id, login, name, role, scope_kind, scope_grid, scope_dept */
    memset(p, 0, sizeof *p);
    p->user_id = db_col_int64(s, first);
    snprintf(p->login, sizeof p->login, "%s", db_col_text(s, first + 1));
    snprintf(p->name, sizeof p->name, "%s", db_col_text(s, first + 2));
    p->role = role_parse(db_col_text(s, first + 3));
    p->scope_kind = scope_parse(db_col_text(s, first + 4));
    if (p->scope_kind < 0)
        p->scope_kind = SCOPE_SELF;
    snprintf(p->scope_grid, sizeof p->scope_grid, "%s",
             db_col_text(s, first + 5) ? db_col_text(s, first + 5) : "");
    p->scope_dept = db_col_int64(s, first + 6);
}

/* A hash to verify against when the login is unknown, so that unknown
 * logins cost the same time as known ones (no user enumeration). */
static char auth_dummy_hash[128];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static void init_dummy(void)
{
    crypto_password_hash("not-a-password-of-anyone", auth_dummy_hash);
}

#define PRINCIPAL_COLS "u.id, u.login, u.name, u.role, u.scope_kind, u.scope_grid, u.scope_dept"

int auth_login(store *st, const char *login, const char *password, const char *ip,
               const char *rid, char token[65], principal *p, werr *e)
{
    pthread_once(&dummy_once, init_dummy);

    db *d = store_reader(st);
    if (!d)
        return werr_set(e, W_EBUSY, "database_unavailable", "database unavailable");
    db_stmt *s = db_query(d, "SELECT " PRINCIPAL_COLS ", u.password_hash, u.locked_until, "
                             "u.disabled FROM users u WHERE u.login = ?", "t", login);
    int found = s && db_step(s) == DB_ROW;
    char hash[128] = "";
    int64_t locked_until = 0;
    int disabled = 0;
    principal who;
    memset(&who, 0, sizeof who);
    if (found) {
        fill_principal(s, 0, &who);
        snprintf(hash, sizeof hash, "%s", db_col_text(s, 7) ? db_col_text(s, 7) : "");
        locked_until = db_col_int64(s, 8);
        disabled = db_col_int(s, 9);
    }
    db_done(s);
    store_release(st, d);

    int64_t now = clock_now();
    if (found && locked_until > now) {
        int64_t mins = (locked_until - now + 59) / 60;
        return werr_set(e, W_ETOOMANY, "account_locked",
                        "账户已锁定，请 %lld 分钟后再试 (account locked after %d failed logins; "
                        "try again in %lld minutes)",
                        (long long)mins, AUTH_MAX_FAILURES, (long long)mins);
    }
    int ok = crypto_password_verify(found && hash[0] ? hash : auth_dummy_hash, password);
    if (!found || !hash[0])
        ok = 0;

    struct login_ctx c;
    memset(&c, 0, sizeof c);
    c.user_id = found ? who.user_id : 0;
    c.ok = ok && !disabled;
    c.login = login;
    c.ip = ip;
    c.rid = rid;
    c.e = e;
    crypto_random_hex(token, 32);
    crypto_hash_hex(token, c.token_hash);
    crypto_random_hex(c.csrf, 32);
    int rc = store_write(st, login_tx, &c);
    if (rc != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot record login");
    if (ok && disabled)
        return werr_set(e, W_EFORBIDDEN, "account_disabled", "账户已停用 (account disabled)");
    if (!c.ok) {
        if (c.locked_now)
            return werr_set(e, W_ETOOMANY, "account_locked",
                            "账户已锁定 15 分钟 (too many failed logins: account locked for %d "
                            "minutes)", AUTH_LOCK_SECONDS / 60);
        return werr_set(e, W_EUNAUTH, "bad_credentials",
                        "用户名或密码错误 (wrong login or password)");
    }
    *p = who;
    snprintf(p->csrf, sizeof p->csrf, "%s", c.csrf);
    return WOK;
}


struct logout_ctx {
    const principal *p;
    const audit_actor *a;
};

static int logout_tx(db *d, void *arg)
{
    struct logout_ctx *c = arg;
    if (db_exec(d, "UPDATE sessions SET revoked = 1 WHERE id = ?", "I", c->p->session_id) != WOK)
        return W_EINTERNAL;
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->p->user_id);
    return audit_record(d, c->a, "auth.logout", "user", idbuf, NULL);
}

int auth_logout(store *st, const principal *p, const audit_actor *a, werr *e)
{
    if (!p->session_id)
        return WOK;
    struct logout_ctx c = {p, a};
    int rc = store_write(st, logout_tx, &c);
    return rc == WOK ? WOK : werr_set(e, rc, "database_error", "cannot end session");
}

/* ---- resolving the caller ------------------------------------------- */

struct touch_ctx {
    int64_t session_id, now;
};

static int touch_tx(db *d, void *arg)
{
    struct touch_ctx *c = arg;
    return db_exec(d, "UPDATE sessions SET last_seen = ? WHERE id = ?", "II", c->now,
                   c->session_id);
}

static int resolve_token(store *st, const char *token, principal *p, werr *e)
{
    char h[65];
    crypto_hash_hex(token, h);
    db *d = store_reader(st);
    if (!d)
        return werr_set(e, W_EBUSY, "database_unavailable", "database unavailable");
    db_stmt *s = db_query(d, "SELECT " PRINCIPAL_COLS ", t.expires_at, u.disabled FROM api_tokens t "
                             "JOIN users u ON u.id = t.user_id WHERE t.token_hash = ? AND "
                             "t.revoked_at IS NULL", "t", h);
    int rc = W_EUNAUTH;
    if (s && db_step(s) == DB_ROW) {
        int64_t exp = db_col_int64(s, 7);
        if ((exp == 0 || exp > clock_now()) && !db_col_int(s, 8)) {
            fill_principal(s, 0, p);
            p->via_token = 1;
            rc = WOK;
        }
    }
    db_done(s);
    store_release(st, d);
    if (rc != WOK)
        werr_set(e, W_EUNAUTH, "bad_token", "令牌无效或已吊销 (token invalid, expired or revoked)");
    return rc;
}

static int resolve_session(store *st, const char *cookie, principal *p, werr *e)
{
    char h[65];
    crypto_hash_hex(cookie, h);
    db *d = store_reader(st);
    if (!d)
        return werr_set(e, W_EBUSY, "database_unavailable", "database unavailable");
    db_stmt *s = db_query(d, "SELECT " PRINCIPAL_COLS ", s.id, s.csrf_token, s.last_seen, "
                             "s.expires_at, u.disabled FROM sessions s JOIN users u ON "
                             "u.id = s.user_id WHERE s.token_hash = ? AND s.revoked = 0", "t", h);
    int rc = W_EUNAUTH;
    int64_t now = clock_now(), last_seen = 0;
    if (s && db_step(s) == DB_ROW) {
        last_seen = db_col_int64(s, 9);
        int64_t expires = db_col_int64(s, 10);
        if (now - last_seen <= AUTH_IDLE_SECONDS && now < expires && !db_col_int(s, 11)) {
            fill_principal(s, 0, p);
            p->session_id = db_col_int64(s, 7);
            snprintf(p->csrf, sizeof p->csrf, "%s", db_col_text(s, 8));
            rc = WOK;
        }
    }
    db_done(s);
    store_release(st, d);
    if (rc != WOK)
        return werr_set(e, W_EUNAUTH, "session_expired",
                        "登录已过期，请重新登录 (session expired: log in again)");
    /* Refresh the idle timer at most once a minute: not a write per request. */
    if (now - last_seen >= 60)
        p->touch_due = now;
    return WOK;
}

int auth_touch(store *st, int64_t session_id, int64_t touch_due)
{
    if (!touch_due)
        return WOK;
    struct touch_ctx c = {session_id, touch_due};
    return store_write(st, touch_tx, &c);
}

int auth_resolve(store *st, const char *authorization, const char *cookie, principal *p, werr *e)
{
    memset(p, 0, sizeof *p);
    if (authorization && *authorization) {
        if (strncasecmp(authorization, "Bearer ", 7) != 0)
            return werr_set(e, W_EUNAUTH, "bad_token", "Authorization: expected 'Bearer TOKEN'");
        const char *t = authorization + 7;
        while (*t == ' ')
            t++;
        if (strlen(t) < 10 || strlen(t) > 200)
            return werr_set(e, W_EUNAUTH, "bad_token", "token invalid");
        return resolve_token(st, t, p, e);
    }
    if (cookie && *cookie) {
        if (strlen(cookie) != 64)
            return werr_set(e, W_EUNAUTH, "session_expired", "session invalid: log in again");
        return resolve_session(st, cookie, p, e);
    }
    return WOK;
}

/* ---- API tokens ----------------------------------------------------- */

struct token_ctx {
    const audit_actor *a;
    int64_t user_id, expires_at, id, revoke_id;
    const char *label;
    char hash[65];
    char prefix[12];
    werr *e;
};

static int token_issue_tx(db *d, void *arg)
{
    struct token_ctx *c = arg;
    char when[32], by[24];
    clock_format(clock_now(), when);
    /* The CLI and background jobs issue tokens as the system: no user. */
    snprintf(by, sizeof by, "%lld", (long long)c->a->user_id);
    const char *created_by = c->a->user_id ? by : NULL;
    db_stmt *s = db_query(d, "SELECT 1 FROM users WHERE id = ?", "I", c->user_id);
    int found = s && db_step(s) == DB_ROW;
    db_done(s);
    if (!found)
        return werr_set(c->e, W_EINVALID, "invalid_field", "user_id: no user %lld",
                        (long long)c->user_id);
    if (db_exec(d, "INSERT INTO api_tokens (token_hash, prefix, user_id, label, created_at, "
                   "created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                "ttItttI", c->hash, c->prefix, c->user_id, c->label, when, created_by,
                c->expires_at) != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot store token");
    c->id = db_last_id(d);
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->id);
    json_t *detail = json_pack("{s:I, s:s, s:s}", "user_id", (json_int_t)c->user_id, "label",
                               c->label, "prefix", c->prefix);
    int rc = audit_record(d, c->a, "token.issue", "token", idbuf, detail);
    json_decref(detail);
    return rc;
}

int auth_token_issue(store *st, const audit_actor *a, int64_t user_id, const char *label,
                     int64_t expires_at, char token[64], int64_t *id, werr *e)
{
    struct token_ctx c;
    memset(&c, 0, sizeof c);
    c.a = a;
    c.user_id = user_id;
    c.expires_at = expires_at;
    c.label = label;
    c.e = e;
    strcpy(token, "wt_");
    crypto_random_hex(token + 3, 24);
    crypto_hash_hex(token, c.hash);
    snprintf(c.prefix, sizeof c.prefix, "%.9s", token);
    int rc = store_write(st, token_issue_tx, &c);
    if (rc == WOK)
        *id = c.id;
    else if (e->rc != rc)
        werr_set(e, rc, "database_error", "cannot issue token");
    return rc;
}

static int token_revoke_tx(db *d, void *arg)
{
    struct token_ctx *c = arg;
    char when[32], idbuf[24];
    clock_format(clock_now(), when);
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->revoke_id);
    if (db_exec(d, "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                "tI", when, c->revoke_id) != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot revoke token");
    if (db_changes(d) == 0)
        return werr_set(c->e, W_ENOTFOUND, "not_found", "no active token %s", idbuf);
    return audit_record(d, c->a, "token.revoke", "token", idbuf, NULL);
}

int auth_token_revoke(store *st, const audit_actor *a, int64_t token_id, werr *e)
{
    struct token_ctx c;
    memset(&c, 0, sizeof c);
    c.a = a;
    c.revoke_id = token_id;
    c.e = e;
    return store_write(st, token_revoke_tx, &c);
}

int auth_token_list(db *d, json_t **out, werr *e)
{
    db_stmt *s = db_query(d, "SELECT t.id, t.prefix, t.user_id, u.login, t.label, t.created_at, "
                             "t.expires_at, t.revoked_at FROM api_tokens t JOIN users u ON "
                             "u.id = t.user_id ORDER BY t.id DESC LIMIT 1000", "");
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot list tokens");
    json_t *items = json_array();
    while (db_step(s) == DB_ROW) {
        json_t *t = json_object();
        json_object_set_new(t, "id", json_integer(db_col_int64(s, 0)));
        json_object_set_new(t, "prefix", json_string(db_col_text(s, 1)));
        json_object_set_new(t, "user_id", json_integer(db_col_int64(s, 2)));
        json_object_set_new(t, "login", json_string(db_col_text(s, 3)));
        json_object_set_new(t, "label", json_string(db_col_text(s, 4)));
        json_object_set_new(t, "created_at", json_string(db_col_text(s, 5)));
        json_object_set_new(t, "expires_at", db_col_int64(s, 6) ? json_integer(db_col_int64(s, 6))
                                                                : json_null());
        json_object_set_new(t, "revoked_at",
                            db_col_text(s, 7) ? json_string(db_col_text(s, 7)) : json_null());
        json_array_append_new(items, t);
    }
    db_done(s);
    *out = json_pack("{s:o}", "items", items);
    return WOK;
}

/* ---- login rate limit ----------------------------------------------- */

#define RATE_SLOTS 1024
#define RATE_WINDOW 300
#define RATE_MAX 30

struct rate_slot {
    char ip[64];
    int64_t window_start;
    int count;
};
static struct rate_slot rate[RATE_SLOTS];
static pthread_mutex_t rate_mu = PTHREAD_MUTEX_INITIALIZER;

int auth_rate_allow(const char *ip)
{
    unsigned h = 5381;
    for (const char *s = ip; s && *s; s++)
        h = h * 33 + (unsigned char)*s;
    int64_t now = clock_now();
    int allowed;
    pthread_mutex_lock(&rate_mu);
    struct rate_slot *r = &rate[h % RATE_SLOTS];
    if (strcmp(r->ip, ip ? ip : "") != 0 || now - r->window_start >= RATE_WINDOW) {
        snprintf(r->ip, sizeof r->ip, "%s", ip ? ip : "");
        r->window_start = now;
        r->count = 0;
    }
    allowed = ++r->count <= RATE_MAX;
    pthread_mutex_unlock(&rate_mu);
    return allowed;
}

json_t *principal_to_json(const principal *p)
{
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s*, s:o}", "id", (json_int_t)p->user_id,
                     "login", p->login, "name", p->name, "role", role_name(p->role), "role_label",
                     role_label_zh(p->role), "scope_kind", scope_name(p->scope_kind), "scope_grid",
                     p->scope_grid[0] ? p->scope_grid : NULL, "scope_dept",
                     p->scope_dept ? json_integer(p->scope_dept) : json_null());
}
