#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

void audit_actor_system(audit_actor *a, const char *what)
{
    memset(a, 0, sizeof *a);
    snprintf(a->login, sizeof a->login, "%s", what ? what : "system");
    a->role = "system";
}

void audit_actor_from(audit_actor *a, const principal *p, const char *ip, const char *rid)
{
    memset(a, 0, sizeof *a);
    if (p) {
        a->user_id = p->user_id;
        snprintf(a->login, sizeof a->login, "%s", p->login);
        a->role = role_name(p->role);
    } else {
        snprintf(a->login, sizeof a->login, "anonymous");
        a->role = "anonymous";
    }
    snprintf(a->ip, sizeof a->ip, "%s", ip ? ip : "");
    snprintf(a->rid, sizeof a->rid, "%s", rid ? rid : "");
}

int audit_record(db *d, const audit_actor *a, const char *action, const char *object_type,
                 const char *object_id, json_t *detail)
{
    char when[32];
    clock_format(clock_now(), when);
    char *dj = detail ? json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    int rc = db_exec(d,
                     "INSERT INTO audit (at, user_id, login, role, ip, request_id, action, "
                     "object_type, object_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     "tItttttttt", when, a->user_id, a->login, a->role, a->ip[0] ? a->ip : NULL,
                     a->rid[0] ? a->rid : NULL, action, object_type, object_id, dj);
    free(dj);
    /* The user id is only a hint for the join: system actors have none. */
    return rc;
}

int audit_list(db *d, const audit_query *q, json_t **out, werr *e)
{
    int limit = q->limit > 0 && q->limit <= 500 ? q->limit : 50;
    db_stmt *s = db_query(
        d,
        "SELECT id, at, user_id, login, role, ip, request_id, action, object_type, object_id, "
        "detail FROM audit WHERE (? IS NULL OR object_type = ?) AND (? IS NULL OR object_id = ?) "
        "AND (? = 0 OR user_id = ?) AND (? IS NULL OR at >= ?) AND (? IS NULL OR at < ?) "
        "AND (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?",
        "ttttIIttttIIi", q->object_type, q->object_type, q->object_id, q->object_id, q->user_id,
        q->user_id, q->since, q->since, q->until, q->until, q->before_id, q->before_id,
        limit + 1);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read audit");
    json_t *items = json_array();
    int n = 0, rc;
    int64_t last_id = 0, next = 0;
    while ((rc = db_step(s)) == DB_ROW) {
        if (n == limit) {
            next = last_id;
            break;
        }
        json_t *it = json_object();
        last_id = db_col_int64(s, 0);
        json_object_set_new(it, "id", json_integer(last_id));
        json_object_set_new(it, "at", json_string(db_col_text(s, 1)));
        json_object_set_new(it, "user_id", db_col_is_null(s, 2) ? json_null()
                                                                : json_integer(db_col_int64(s, 2)));
        json_object_set_new(it, "login", json_string(db_col_text(s, 3) ? db_col_text(s, 3) : ""));
        json_object_set_new(it, "role", json_string(db_col_text(s, 4) ? db_col_text(s, 4) : ""));
        json_object_set_new(it, "ip", db_col_text(s, 5) ? json_string(db_col_text(s, 5)) : json_null());
        json_object_set_new(it, "request_id",
                            db_col_text(s, 6) ? json_string(db_col_text(s, 6)) : json_null());
        json_object_set_new(it, "action", json_string(db_col_text(s, 7)));
        json_object_set_new(it, "object_type", json_string(db_col_text(s, 8)));
        json_object_set_new(it, "object_id",
                            db_col_text(s, 9) ? json_string(db_col_text(s, 9)) : json_null());
        json_t *detail = NULL;
        if (db_col_text(s, 10))
            detail = json_loads(db_col_text(s, 10), 0, NULL);
        json_object_set_new(it, "detail", detail ? detail : json_null());
        json_array_append_new(items, it);
        n++;
    }
    db_done(s);
    if (rc == DB_ERROR) {
        json_decref(items);
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read audit");
    }
    json_t *o = json_object();
    json_object_set_new(o, "items", items);
    json_object_set_new(o, "next_cursor", next ? json_integer(next) : json_null());
    *out = o;
    return WOK;
}
