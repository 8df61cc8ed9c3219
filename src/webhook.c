/*
 * webhook.c — see webhook.h. The worker never holds the writer while it
 * talks to the network: it reads what is due with a reader, POSTs, then
 * records each outcome in its own short write.
 */
#include "webhook.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "crypto.h"
#include "httpc.h"
#include "log.h"
#include "ops_settings.h"
#include "outbox.h"

#define FANOUT_BATCH 500
#define DELIVER_BATCH 50
#define POLL_MS 200
#define WEBHOOK_MAX 256 /* active webhooks; far more than a county configures */

static const char *allow_list(void)
{
    return getenv("WHISTLE_WEBHOOK_ALLOW");
}

/* ---- filters and signatures ------------------------------------------ */

int webhook_valid_pattern(const char *p)
{
    if (!p)
        return 0;
    if (strcmp(p, "*") == 0)
        return 1;
    size_t n = strlen(p);
    if (n > 2 && p[n - 1] == '*' && p[n - 2] == '.') {
        char area[64];
        if (n - 2 >= sizeof area)
            return 0;
        memcpy(area, p, n - 2);
        area[n - 2] = '\0';
        /* "order.*": the area alone must look like part of an event name */
        for (size_t i = 0; area[i]; i++) {
            char c = area[i];
            if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
                return 0;
        }
        return area[0] != '.' && area[n - 3] != '.';
    }
    return outbox_valid_event(p);
}

int webhook_filter_matches(json_t *patterns, const char *event)
{
    size_t i;
    json_t *v;
    json_array_foreach(patterns, i, v)
    {
        const char *p = json_string_value(v);
        if (!p)
            continue;
        if (strcmp(p, "*") == 0 || strcmp(p, event) == 0)
            return 1;
        size_t n = strlen(p);
        if (n > 2 && p[n - 1] == '*' && strncmp(p, event, n - 1) == 0)
            return 1;
    }
    return 0;
}

void webhook_sign(const char *secret, int64_t ts, const char *body, size_t len, char out[72])
{
    crypto_auth_hmacsha256_state hs;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    char tsbuf[24];
    int tn = snprintf(tsbuf, sizeof tsbuf, "%lld.", (long long)ts);
    crypto_auth_hmacsha256_init(&hs, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&hs, (const unsigned char *)tsbuf, (unsigned long long)tn);
    crypto_auth_hmacsha256_update(&hs, (const unsigned char *)body, (unsigned long long)len);
    crypto_auth_hmacsha256_final(&hs, mac);
    memcpy(out, "sha256=", 7);
    sodium_bin2hex(out + 7, 65, mac, sizeof mac);
}

/* ---- administration ---------------------------------------------------- */

static json_t *webhook_row_json(db_stmt *s)
{
    /* columns: id, url, events, description, max_attempts, backoff_ms,
     * created_at, secret, pending, dead */
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(db_col_int64(s, 0)));
    json_object_set_new(o, "url", json_string(db_col_text(s, 1)));
    json_t *ev = json_loads(db_col_text(s, 2) ? db_col_text(s, 2) : "[]", 0, NULL);
    json_object_set_new(o, "events", ev ? ev : json_array());
    json_object_set_new(o, "description",
                        db_col_text(s, 3) ? json_string(db_col_text(s, 3)) : json_null());
    json_object_set_new(o, "max_attempts",
                        db_col_is_null(s, 4) ? json_null() : json_integer(db_col_int64(s, 4)));
    json_object_set_new(o, "backoff_ms",
                        db_col_is_null(s, 5) ? json_null() : json_integer(db_col_int64(s, 5)));
    json_object_set_new(o, "created_at", json_string(db_col_text(s, 6)));
    /* Only a hint of the secret, to recognise it; the secret itself is
     * shown once, at creation. */
    const char *sec = db_col_text(s, 7);
    char hint[16];
    snprintf(hint, sizeof hint, "%.6s…", sec ? sec : "");
    json_object_set_new(o, "secret_hint", json_string(hint));
    json_object_set_new(o, "pending", json_integer(db_col_int64(s, 8)));
    json_object_set_new(o, "dead_letters", json_integer(db_col_int64(s, 9)));
    return o;
}

#define WEBHOOK_COLS                                                                            \
    "w.id, w.url, w.events, w.description, w.max_attempts, w.backoff_ms, w.created_at, "        \
    "w.secret, (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND "       \
    "d.state = 'pending'), (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = "    \
    "w.id AND d.state = 'dead')"

int webhook_list(db *d, json_t **out, werr *e)
{
    db_stmt *s = db_query(d,
                          "SELECT " WEBHOOK_COLS " FROM webhooks w WHERE w.deleted_at IS NULL "
                          "ORDER BY w.id",
                          "");
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read webhooks");
    json_t *items = json_array();
    while (db_step(s) == DB_ROW)
        json_array_append_new(items, webhook_row_json(s));
    db_done(s);
    *out = json_pack("{s:o}", "items", items);
    return WOK;
}

struct create_ctx {
    const audit_actor *a;
    const webhook_input *in;
    const char *secret;
    const char *events;
    int64_t id;
    werr *e;
};

static int create_tx(db *d, void *arg)
{
    struct create_ctx *c = arg;
    char now[32];
    clock_format(clock_now(), now);
    db_stmt *s = db_query(d, "SELECT count(*) FROM webhooks WHERE deleted_at IS NULL", "");
    int active = s && db_step(s) == DB_ROW ? db_col_int(s, 0) : 0;
    db_done(s);
    if (active >= WEBHOOK_MAX)
        return werr_set(c->e, W_ECONFLICT, "too_many_webhooks",
                        "at most %d webhooks: delete one first", WEBHOOK_MAX);
    int64_t since = 0;
    s = db_query(d, "SELECT coalesce(max(id), 0) FROM outbox", "");
    if (s && db_step(s) == DB_ROW)
        since = db_col_int64(s, 0);
    db_done(s);
    if (!s)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot read the outbox");
    /* 0 leaves a limit to the settings (NULL in the table). */
    int rc = db_exec(d,
                     "INSERT INTO webhooks (url, secret, events, max_attempts, backoff_ms, "
                     "since_outbox_id, created_at, created_by, description) VALUES "
                     "(?, ?, ?, NULLIF(?, 0), NULLIF(?, 0), ?, ?, ?, ?)",
                     "tttIIItIt", c->in->url, c->secret, c->events, c->in->max_attempts,
                     c->in->backoff_ms, since, now, c->a->user_id, c->in->description);
    if (rc != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot store the webhook");
    c->id = db_last_id(d);
    char idtxt[24];
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)c->id);
    json_t *detail = json_pack("{s:s, s:s}", "url", c->in->url, "events", c->events);
    rc = audit_record(d, c->a, "webhook.create", "webhook", idtxt, detail);
    json_decref(detail);
    return rc;
}

int webhook_create(store *st, const audit_actor *a, const webhook_input *in, json_t **out,
                   werr *e)
{
    httpc_url u;
    int pr = httpc_parse_url(in->url, &u);
    if (pr == 2)
        return werr_set(e, W_EINVALID, "invalid_field",
                        "url: only http:// URLs are supported; for https run a local TLS relay "
                        "and point the webhook at it (docs/notifications.md)");
    if (pr != 0)
        return werr_set(e, W_EINVALID, "invalid_field",
                        "url: not an http://host[:port]/path URL (no user info, no fragment)");
    char why[100];
    if (httpc_literal_refused(u.host, allow_list(), why, sizeof why))
        return werr_set(e, W_EINVALID, "target_refused", "url: %s", why);
    json_t *events = in->events ? json_incref(in->events) : json_pack("[s]", "*");
    size_t i;
    json_t *v;
    if (json_array_size(events) == 0) {
        json_decref(events);
        return werr_set(e, W_EINVALID, "invalid_field", "events: name at least one pattern");
    }
    json_array_foreach(events, i, v)
    {
        if (!webhook_valid_pattern(json_string_value(v))) {
            json_decref(events);
            return werr_set(e, W_EINVALID, "invalid_field",
                            "events[%zu]: expected \"*\", an event like \"order.signed\" or "
                            "\"order.*\"",
                            i);
        }
    }
    char *ev = json_dumps(events, JSON_COMPACT);
    json_decref(events);
    char gen[48];
    const char *secret = in->secret;
    if (!secret) {
        memcpy(gen, "whsec_", 6);
        crypto_random_hex(gen + 6, 16);
        secret = gen;
    }
    struct create_ctx c = {a, in, secret, ev, 0, e};
    int rc = store_write(st, create_tx, &c);
    if (rc != WOK) {
        free(ev);
        if (e && !e->code[0])
            werr_set(e, W_EINTERNAL, "database_error", "cannot store the webhook");
        return rc;
    }
    json_t *evj = json_loads(ev, 0, NULL);
    free(ev);
    *out = json_pack("{s:I, s:s, s:o, s:s, s:s}", "id", (json_int_t)c.id, "url", in->url,
                     "events", evj ? evj : json_array(), "secret", secret, "note",
                     "the secret is shown once: store it now");
    return WOK;
}

struct id_ctx {
    const audit_actor *a;
    int64_t id;
    json_t *result;
    werr *e;
};

static int delete_tx(db *d, void *arg)
{
    struct id_ctx *c = arg;
    char now[32];
    clock_format(clock_now(), now);
    if (db_exec(d, "UPDATE webhooks SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", "tI",
                now, c->id) != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot delete the webhook");
    if (db_changes(d) == 0)
        return werr_set(c->e, W_ENOTFOUND, "not_found", "no webhook %lld", (long long)c->id);
    if (db_exec(d,
                "UPDATE webhook_deliveries SET state = 'cancelled', updated_at = ? "
                "WHERE webhook_id = ? AND state = 'pending'",
                "tI", now, c->id) != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot cancel deliveries");
    char idtxt[24];
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)c->id);
    return audit_record(d, c->a, "webhook.delete", "webhook", idtxt, NULL);
}

int webhook_delete(store *st, const audit_actor *a, int64_t id, werr *e)
{
    struct id_ctx c = {a, id, NULL, e};
    return store_write(st, delete_tx, &c);
}

static int ping_tx(db *d, void *arg)
{
    struct id_ctx *c = arg;
    /* a write fn may run twice (store.h): start from a clean slate */
    json_decref(c->result);
    c->result = NULL;
    db_stmt *s = db_query(d, "SELECT count(*) FROM webhooks WHERE id = ? AND deleted_at IS NULL",
                          "I", c->id);
    int found = s && db_step(s) == DB_ROW && db_col_int(s, 0) > 0;
    db_done(s);
    if (!found)
        return werr_set(c->e, W_ENOTFOUND, "not_found", "no webhook %lld", (long long)c->id);
    char idtxt[24];
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)c->id);
    json_t *p = json_pack("{s:I, s:s}", "webhook_id", (json_int_t)c->id, "message",
                          "whistle webhook test 测试");
    int rc = outbox_emit(d, "webhook.ping", "webhook", idtxt, p);
    json_decref(p);
    if (rc != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot queue the ping");
    int64_t oid = db_last_id(d);
    s = db_query(d, "SELECT event_id FROM outbox WHERE id = ?", "I", oid);
    if (s && db_step(s) == DB_ROW)
        c->result = json_pack("{s:s, s:s}", "event_id", db_col_text(s, 0), "event",
                              "webhook.ping");
    db_done(s);
    return audit_record(d, c->a, "webhook.ping", "webhook", idtxt, NULL);
}

int webhook_ping(store *st, const audit_actor *a, int64_t id, json_t **out, werr *e)
{
    struct id_ctx c = {a, id, NULL, e};
    int rc = store_write(st, ping_tx, &c);
    if (rc != WOK) {
        json_decref(c.result);
        return rc;
    }
    *out = c.result ? c.result : json_object();
    return WOK;
}

/* columns of a delivery as the API shows it */
#define DELIVERY_COLS                                                                           \
    "d.id, d.webhook_id, w.url, o.event_id, o.event, o.object_type, o.object_id, d.state, "     \
    "d.attempts, d.last_status, d.last_error, d.created_at, d.updated_at, d.delivered_at, "     \
    "d.next_at_ms"

static json_t *delivery_json(db_stmt *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(db_col_int64(s, 0)));
    json_object_set_new(o, "webhook_id", json_integer(db_col_int64(s, 1)));
    json_object_set_new(o, "url", json_string(db_col_text(s, 2)));
    json_object_set_new(o, "event_id", json_string(db_col_text(s, 3)));
    json_object_set_new(o, "event", json_string(db_col_text(s, 4)));
    json_object_set_new(o, "object_type", json_string(db_col_text(s, 5)));
    json_object_set_new(o, "object_id",
                        db_col_text(s, 6) ? json_string(db_col_text(s, 6)) : json_null());
    json_object_set_new(o, "state", json_string(db_col_text(s, 7)));
    json_object_set_new(o, "attempts", json_integer(db_col_int(s, 8)));
    json_object_set_new(o, "last_status",
                        db_col_is_null(s, 9) ? json_null() : json_integer(db_col_int(s, 9)));
    json_object_set_new(o, "last_error",
                        db_col_text(s, 10) ? json_string(db_col_text(s, 10)) : json_null());
    json_object_set_new(o, "created_at", json_string(db_col_text(s, 11)));
    json_object_set_new(o, "updated_at", json_string(db_col_text(s, 12)));
    json_object_set_new(o, "delivered_at",
                        db_col_text(s, 13) ? json_string(db_col_text(s, 13)) : json_null());
    if (strcmp(db_col_text(s, 7), "pending") == 0) {
        char t[32];
        clock_format(db_col_int64(s, 14) / 1000, t);
        json_object_set_new(o, "next_attempt_at", json_string(t));
    }
    return o;
}

static int page_out(db_stmt *s, int limit, json_t **out, werr *e)
{
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read deliveries");
    json_t *items = json_array();
    int n = 0;
    int64_t last = 0, next = 0;
    while (db_step(s) == DB_ROW) {
        if (n == limit) {
            next = last;
            break;
        }
        last = db_col_int64(s, 0);
        json_array_append_new(items, delivery_json(s));
        n++;
    }
    db_done(s);
    *out = json_pack("{s:o, s:o}", "items", items, "next_cursor",
                     next ? json_integer(next) : json_null());
    return WOK;
}

int webhook_deliveries(db *d, int64_t webhook_id, const char *state, int64_t before_id, int limit,
                       json_t **out, werr *e)
{
    db_stmt *s = db_query(d,
                          "SELECT " DELIVERY_COLS " FROM webhook_deliveries d "
                          "JOIN webhooks w ON w.id = d.webhook_id "
                          "JOIN outbox o ON o.id = d.outbox_id "
                          "WHERE d.webhook_id = ? AND (? IS NULL OR d.state = ?) "
                          "AND (? = 0 OR d.id < ?) ORDER BY d.id DESC LIMIT ?",
                          "IttIIi", webhook_id, state, state, before_id, before_id, limit + 1);
    return page_out(s, limit, out, e);
}

int webhook_dead_letters(db *d, int64_t before_id, int limit, json_t **out, werr *e)
{
    db_stmt *s = db_query(d,
                          "SELECT " DELIVERY_COLS " FROM webhook_deliveries d "
                          "JOIN webhooks w ON w.id = d.webhook_id "
                          "JOIN outbox o ON o.id = d.outbox_id "
                          "WHERE d.state = 'dead' AND (? = 0 OR d.id < ?) "
                          "ORDER BY d.id DESC LIMIT ?",
                          "IIi", before_id, before_id, limit + 1);
    return page_out(s, limit, out, e);
}

static int retry_tx(db *d, void *arg)
{
    struct id_ctx *c = arg;
    db_stmt *s = db_query(d,
                          "SELECT d.state, w.deleted_at FROM webhook_deliveries d "
                          "JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?",
                          "I", c->id);
    if (!s)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot read the delivery");
    if (db_step(s) != DB_ROW) {
        db_done(s);
        return werr_set(c->e, W_ENOTFOUND, "not_found", "no delivery %lld", (long long)c->id);
    }
    int dead = strcmp(db_col_text(s, 0), "dead") == 0;
    int deleted = !db_col_is_null(s, 1);
    char state[16];
    snprintf(state, sizeof state, "%s", db_col_text(s, 0));
    db_done(s);
    if (!dead)
        return werr_set(c->e, W_ECONFLICT, "not_dead_letter",
                        "delivery %lld is %s, not a dead letter", (long long)c->id, state);
    if (deleted)
        return werr_set(c->e, W_ECONFLICT, "webhook_deleted",
                        "the webhook of delivery %lld was deleted", (long long)c->id);
    char now[32];
    clock_format(clock_now(), now);
    if (db_exec(d,
                "UPDATE webhook_deliveries SET state = 'pending', attempts = 0, next_at_ms = ?, "
                "updated_at = ? WHERE id = ?",
                "ItI", clock_now_ms(), now, c->id) != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot requeue the delivery");
    char idtxt[24];
    snprintf(idtxt, sizeof idtxt, "%lld", (long long)c->id);
    return audit_record(d, c->a, "webhook.retry", "webhook_delivery", idtxt, NULL);
}

int webhook_retry(store *st, const audit_actor *a, int64_t delivery_id, werr *e)
{
    struct id_ctx c = {a, delivery_id, NULL, e};
    return store_write(st, retry_tx, &c);
}

/* ---- the worker: fan-out ------------------------------------------------ */

struct hook {
    int64_t id, since;
    json_t *events;
};

struct fanout_ctx {
    int n; /* events fanned out */
};

static int fanout_tx(db *d, void *arg)
{
    struct fanout_ctx *c = arg;
    c->n = 0;
    struct hook hooks[WEBHOOK_MAX]; /* webhook_create refuses more */
    int nh = 0;
    db_stmt *s = db_query(d,
                          "SELECT id, since_outbox_id, events FROM webhooks "
                          "WHERE deleted_at IS NULL ORDER BY id",
                          "");
    while (s && db_step(s) == DB_ROW && nh < (int)(sizeof hooks / sizeof hooks[0])) {
        hooks[nh].id = db_col_int64(s, 0);
        hooks[nh].since = db_col_int64(s, 1);
        hooks[nh].events = json_loads(db_col_text(s, 2), 0, NULL);
        nh++;
    }
    db_done(s);
    struct {
        int64_t id;
        char event[68];
        int64_t addressed; /* webhook.* events go only to the webhook named */
    } ev[FANOUT_BATCH];
    int ne = 0;
    s = db_query(d,
                 "SELECT id, event, object_type, object_id FROM outbox WHERE fanned_out = 0 "
                 "ORDER BY id LIMIT ?",
                 "i", FANOUT_BATCH);
    while (s && db_step(s) == DB_ROW) {
        ev[ne].id = db_col_int64(s, 0);
        snprintf(ev[ne].event, sizeof ev[ne].event, "%s", db_col_text(s, 1));
        ev[ne].addressed = 0;
        if (strcmp(db_col_text(s, 2), "webhook") == 0 && db_col_text(s, 3))
            ev[ne].addressed = strtoll(db_col_text(s, 3), NULL, 10);
        ne++;
    }
    db_done(s);
    char now[32];
    clock_format(clock_now(), now);
    int64_t now_ms = clock_now_ms();
    int rc = WOK;
    for (int i = 0; i < ne && rc == WOK; i++) {
        for (int h = 0; h < nh && rc == WOK; h++) {
            if (ev[i].id <= hooks[h].since)
                continue;
            int match = ev[i].addressed ? ev[i].addressed == hooks[h].id
                                        : webhook_filter_matches(hooks[h].events, ev[i].event);
            if (!match)
                continue;
            rc = db_exec(d,
                         "INSERT INTO webhook_deliveries (webhook_id, outbox_id, next_at_ms, "
                         "created_at, updated_at) VALUES (?, ?, ?, ?, ?) "
                         "ON CONFLICT (webhook_id, outbox_id) DO NOTHING",
                         "IIItt", hooks[h].id, ev[i].id, now_ms, now, now);
        }
        if (rc == WOK)
            rc = db_exec(d, "UPDATE outbox SET fanned_out = 1 WHERE id = ?", "I", ev[i].id);
    }
    for (int h = 0; h < nh; h++)
        json_decref(hooks[h].events);
    c->n = ne;
    return rc;
}

static int has_unfanned(store *st)
{
    db *d = store_reader(st);
    if (!d)
        return 0;
    db_stmt *s = db_query(d, "SELECT id FROM outbox WHERE fanned_out = 0 LIMIT 1", "");
    int has = s && db_step(s) == DB_ROW;
    db_done(s);
    store_release(st, d);
    return has;
}

/* ---- the worker: delivery ----------------------------------------------- */

struct due {
    int64_t id, webhook_id;
    int attempts, max_attempts;
    int64_t backoff_ms;
    char *url, *secret, *event, *event_id, *body;
};

struct result_ctx {
    struct due *d;
    int ok, status;
    const char *error;
    int dead;
};

static int result_tx(db *d, void *arg)
{
    struct result_ctx *c = arg;
    char now[32];
    clock_format(clock_now(), now);
    int attempts = c->d->attempts + 1;
    if (c->ok)
        return db_exec(d,
                       "UPDATE webhook_deliveries SET state = 'delivered', attempts = ?, "
                       "last_status = ?, last_error = NULL, updated_at = ?, delivered_at = ? "
                       "WHERE id = ? AND state = 'pending'",
                       "iittI", attempts, c->status, now, now, c->d->id);
    if (attempts >= c->d->max_attempts) {
        c->dead = 1;
        return db_exec(d,
                       "UPDATE webhook_deliveries SET state = 'dead', attempts = ?, "
                       "last_status = NULLIF(?, 0), last_error = ?, updated_at = ? "
                       "WHERE id = ? AND state = 'pending'",
                       "iittI", attempts, c->status, c->error, now, c->d->id);
    }
    /* Exponential backoff with ±10% jitter, so that many deliveries that
     * failed together do not all come back at the same instant. */
    int64_t delay = c->d->backoff_ms;
    for (int i = 1; i < attempts && delay < WEBHOOK_MAX_BACKOFF_MS; i++)
        delay *= 2;
    if (delay > WEBHOOK_MAX_BACKOFF_MS)
        delay = WEBHOOK_MAX_BACKOFF_MS;
    if (delay >= 10)
        delay += (int64_t)crypto_random_below((uint32_t)(delay / 5)) - delay / 10;
    return db_exec(d,
                   "UPDATE webhook_deliveries SET attempts = ?, last_status = NULLIF(?, 0), "
                   "last_error = ?, "
                   "next_at_ms = ?, updated_at = ? WHERE id = ? AND state = 'pending'",
                   "iitItI", attempts, c->status, c->error, clock_now_ms() + delay, now,
                   c->d->id);
}

static char *dupstr(const char *s)
{
    return strdup(s ? s : "");
}

static void due_free(struct due *d)
{
    free(d->url);
    free(d->secret);
    free(d->event);
    free(d->event_id);
    free(d->body);
}

/* Reads up to max due deliveries; the body is built here, once, so that
 * every attempt sends the same bytes. */
static int read_due(store *st, struct due *out, int max)
{
    db *d = store_reader(st);
    if (!d)
        return 0;
    int64_t def_attempts = ops_setting_int(d, "webhook.max_attempts", WEBHOOK_DEFAULT_MAX_ATTEMPTS);
    int64_t def_backoff = ops_setting_int(d, "webhook.backoff_ms", WEBHOOK_DEFAULT_BACKOFF_MS);
    db_stmt *s = db_query(
        d,
        "SELECT d.id, d.webhook_id, d.attempts, w.url, w.secret, w.max_attempts, w.backoff_ms, "
        "o.event_id, o.event, o.object_type, o.object_id, o.payload, o.created_at "
        "FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id "
        "JOIN outbox o ON o.id = d.outbox_id "
        "WHERE d.state = 'pending' AND d.next_at_ms <= ? ORDER BY d.next_at_ms, d.id LIMIT ?",
        "Ii", clock_now_ms(), max);
    int n = 0;
    while (s && db_step(s) == DB_ROW && n < max) {
        struct due *x = &out[n];
        memset(x, 0, sizeof *x);
        x->id = db_col_int64(s, 0);
        x->webhook_id = db_col_int64(s, 1);
        x->attempts = db_col_int(s, 2);
        x->url = dupstr(db_col_text(s, 3));
        x->secret = dupstr(db_col_text(s, 4));
        x->max_attempts = db_col_is_null(s, 5) ? (int)def_attempts : db_col_int(s, 5);
        if (x->max_attempts < 1)
            x->max_attempts = 1;
        x->backoff_ms = db_col_is_null(s, 6) ? def_backoff : db_col_int64(s, 6);
        if (x->backoff_ms < 1)
            x->backoff_ms = 1;
        x->event_id = dupstr(db_col_text(s, 7));
        x->event = dupstr(db_col_text(s, 8));
        json_t *data = json_loads(db_col_text(s, 11) ? db_col_text(s, 11) : "{}", 0, NULL);
        json_t *b = json_pack("{s:s, s:s, s:s, s:o, s:s, s:o}", "id", x->event_id, "event",
                              x->event, "object_type", db_col_text(s, 9), "object_id",
                              db_col_text(s, 10) ? json_string(db_col_text(s, 10)) : json_null(),
                              "created_at", db_col_text(s, 12), "data",
                              data ? data : json_object());
        x->body = b ? json_dumps(b, JSON_COMPACT) : NULL;
        json_decref(b);
        if (!x->body) {
            due_free(x);
            continue;
        }
        n++;
    }
    db_done(s);
    store_release(st, d);
    return n;
}

static void deliver_one(store *st, struct due *x, int timeout_ms, int *ok_out)
{
    httpc_url u;
    struct result_ctx rc = {x, 0, 0, NULL, 0};
    httpc_result res = {0};
    char err[240];
    if (httpc_parse_url(x->url, &u) != 0) {
        rc.error = "webhook URL is not a valid http:// URL";
    } else {
        int64_t ts = clock_now();
        char sig[72], h_sig[96], h_ts[48], h_ev[96], h_id[64], h_del[48], h_att[40];
        webhook_sign(x->secret, ts, x->body, strlen(x->body), sig);
        snprintf(h_sig, sizeof h_sig, "X-Whistle-Signature: %s", sig);
        snprintf(h_ts, sizeof h_ts, "X-Whistle-Timestamp: %lld", (long long)ts);
        snprintf(h_ev, sizeof h_ev, "X-Whistle-Event: %s", x->event);
        snprintf(h_id, sizeof h_id, "X-Whistle-Event-Id: %s", x->event_id);
        snprintf(h_del, sizeof h_del, "X-Whistle-Delivery: %lld", (long long)x->id);
        snprintf(h_att, sizeof h_att, "X-Whistle-Attempt: %d", x->attempts + 1);
        const char *hdrs[] = {h_ev, h_id, h_del, h_att, h_ts, h_sig};
        if (httpc_post(&u, hdrs, 6, x->body, strlen(x->body), timeout_ms, allow_list(), &res) ==
            0) {
            rc.status = res.status;
            rc.ok = res.status >= 200 && res.status < 300;
            if (!rc.ok) {
                snprintf(err, sizeof err, "HTTP %d", res.status);
                rc.error = err;
            }
        } else {
            snprintf(err, sizeof err, "%s", res.error);
            rc.error = err;
        }
    }
    if (store_write(st, result_tx, &rc) != WOK)
        log_error(NULL, "webhook: cannot record the outcome of delivery %lld", (long long)x->id);
    if (rc.dead)
        log_warn(NULL, "webhook %lld: delivery %lld of %s is a dead letter after %d attempts (%s)",
                 (long long)x->webhook_id, (long long)x->id, x->event_id, x->attempts + 1,
                 rc.error ? rc.error : "?");
    *ok_out = rc.ok;
}

int webhook_round(store *st)
{
    /* Fan out everything new first, in batches. */
    for (int guard = 0; guard < 100 && has_unfanned(st); guard++) {
        struct fanout_ctx fc = {0};
        if (store_write(st, fanout_tx, &fc) != WOK) {
            log_error(NULL, "webhook: fan-out failed");
            break;
        }
        if (fc.n < FANOUT_BATCH)
            break;
    }
    struct due *due = calloc(DELIVER_BATCH, sizeof *due);
    if (!due)
        return 0;
    int n = read_due(st, due, DELIVER_BATCH);
    int timeout_ms = WEBHOOK_DEFAULT_TIMEOUT_MS;
    {
        db *d = store_reader(st);
        if (d) {
            timeout_ms = (int)ops_setting_int(d, "webhook.timeout_ms", WEBHOOK_DEFAULT_TIMEOUT_MS);
            store_release(st, d);
        }
        if (timeout_ms < 100 || timeout_ms > 120000)
            timeout_ms = WEBHOOK_DEFAULT_TIMEOUT_MS;
    }
    /* A receiver that fails once is not tried again in this round: one
     * down receiver with a long queue must not cost a timeout per event. */
    int64_t failed[DELIVER_BATCH];
    int nfailed = 0, attempted = 0;
    for (int i = 0; i < n; i++) {
        int skip = 0;
        for (int k = 0; k < nfailed; k++)
            if (failed[k] == due[i].webhook_id)
                skip = 1;
        if (!skip) {
            int ok = 0;
            deliver_one(st, &due[i], timeout_ms, &ok);
            attempted++;
            if (!ok)
                failed[nfailed++] = due[i].webhook_id;
        }
        due_free(&due[i]);
    }
    free(due);
    return attempted;
}

/* ---- the worker thread ---------------------------------------------------- */

struct webhook_worker {
    store *st;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
};

static void *worker_main(void *arg)
{
    webhook_worker *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        pthread_mutex_unlock(&w->mu);
        int n = webhook_round(w->st);
        pthread_mutex_lock(&w->mu);
        if (w->stop)
            break;
        /* A full batch: go on at once; otherwise poll again shortly. */
        int wait_ms = n >= DELIVER_BATCH ? 1 : POLL_MS;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)wait_ms * 1000000L;
        while (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

webhook_worker *webhook_worker_start(store *st)
{
    webhook_worker *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->st = st;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        log_error(NULL, "cannot start the webhook worker");
        pthread_mutex_destroy(&w->mu);
        pthread_cond_destroy(&w->cv);
        free(w);
        return NULL;
    }
    return w;
}

void webhook_worker_stop(webhook_worker *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w);
}
