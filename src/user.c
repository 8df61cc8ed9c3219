#include "user.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "crypto.h"
#include "perm.h"
#include "validate.h"

static int default_scope(int role)
{
    switch (role) {
    case ROLE_RESIDENT:
    case ROLE_DEVICE: return SCOPE_SELF;
    case ROLE_GRID_WORKER:
    case ROLE_COMMUNITY:
    case ROLE_STREET: return SCOPE_GRID;
    case ROLE_DEPARTMENT: return SCOPE_DEPT;
    default: return SCOPE_ALL;
    }
}

int user_validate(const user_input *in, werr *e)
{
    if (!valid_login(in->login))
        return werr_set(e, W_EINVALID, "invalid_field",
                        "login: 3 to 64 characters of letters, digits, '.', '_' or '-'");
    if (!in->name || !valid_text(in->name, 1, 64))
        return werr_set(e, W_EINVALID, "invalid_field", "name: 1 to 64 characters");
    if (in->phone && in->phone[0] && !valid_phone(in->phone))
        return werr_set(e, W_EINVALID, "invalid_field", "phone: not a phone number");
    int role = role_parse(in->role);
    if (role == ROLE_NONE)
        return werr_set(e, W_EINVALID, "invalid_field", "role: unknown role '%s'",
                        in->role ? in->role : "");
    int scope = in->scope_kind ? scope_parse(in->scope_kind) : default_scope(role);
    if (scope < 0)
        return werr_set(e, W_EINVALID, "invalid_field",
                        "scope_kind: one of all, grid, department, self");
    if (scope == SCOPE_GRID && (!in->scope_grid || !valid_code(in->scope_grid)))
        return werr_set(e, W_EINVALID, "invalid_field", "scope_grid: a grid code is required");
    if (scope == SCOPE_DEPT && in->scope_dept <= 0)
        return werr_set(e, W_EINVALID, "invalid_field", "scope_dept: a department id is required");
    if (role != ROLE_DEVICE && !in->password)
        return werr_set(e, W_EINVALID, "invalid_field", "password: required");
    if (in->password && !valid_text(in->password, 8, 128))
        return werr_set(e, W_EINVALID, "invalid_field", "password: 8 to 128 characters");
    return WOK;
}

struct create_ctx {
    const audit_actor *a;
    const user_input *in;
    const char *hash;
    int scope;
    int64_t id;
    werr *e;
};

static int create_tx(db *d, void *arg)
{
    struct create_ctx *c = arg;
    char when[32], deptbuf[24];
    clock_format(clock_now(), when);
    snprintf(deptbuf, sizeof deptbuf, "%lld", (long long)c->in->scope_dept);
    if (c->scope == SCOPE_DEPT) {
        db_stmt *s = db_query(d, "SELECT 1 FROM departments WHERE id = ?", "I", c->in->scope_dept);
        int found = s && db_step(s) == DB_ROW;
        db_done(s);
        if (!found)
            return werr_set(c->e, W_EINVALID, "invalid_field", "scope_dept: no department %lld",
                            (long long)c->in->scope_dept);
    }
    int rc = db_exec(d,
                     "INSERT INTO users (login, name, phone, role, scope_kind, scope_grid, "
                     "scope_dept, password_hash, created_at, updated_at) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     "ttttttttt" "t", c->in->login, c->in->name, c->in->phone, c->in->role,
                     scope_name(c->scope), c->scope == SCOPE_GRID ? c->in->scope_grid : NULL,
                     c->scope == SCOPE_DEPT ? deptbuf : NULL, c->hash, when, when);
    if (rc == W_ECONFLICT)
        return werr_set(c->e, W_ECONFLICT, "login_taken", "login '%s' is already taken",
                        c->in->login);
    if (rc != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot create user");
    c->id = db_last_id(d);
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->id);
    json_t *detail = json_pack("{s:s, s:s, s:s, s:s*}", "login", c->in->login, "role",
                               c->in->role, "scope_kind", scope_name(c->scope), "scope_grid",
                               c->scope == SCOPE_GRID ? c->in->scope_grid : NULL);
    rc = audit_record(d, c->a, "user.create", "user", idbuf, detail);
    json_decref(detail);
    return rc == WOK ? WOK : werr_set(c->e, W_EINTERNAL, "database_error", "cannot audit");
}

int user_create(store *st, const audit_actor *a, const user_input *in, int64_t *id, werr *e)
{
    int rc = user_validate(in, e);
    if (rc != WOK)
        return rc;
    char hash[128] = "";
    if (in->password && crypto_password_hash(in->password, hash) != 0)
        return werr_set(e, W_EINTERNAL, "hash_failed", "cannot hash password (out of memory?)");
    int role = role_parse(in->role);
    /* A department scope stored as 0 would be meaningless. */
    struct create_ctx c = {a, in, in->password ? hash : NULL,
                           in->scope_kind ? scope_parse(in->scope_kind) : default_scope(role), 0,
                           e};
    if (c.scope == SCOPE_GRID && !in->scope_grid)
        c.scope = SCOPE_ALL;
    rc = store_write(st, create_tx, &c);
    if (rc == WOK && id)
        *id = c.id;
    if (rc != WOK && e->rc != rc)
        werr_set(e, rc, "database_error", "cannot create user");
    return rc;
}

struct pw_ctx {
    const audit_actor *a;
    int64_t id;
    const char *hash;
    int lock; /* -1: not a lock change */
    werr *e;
};

static int pw_tx(db *d, void *arg)
{
    struct pw_ctx *c = arg;
    char when[32], idbuf[24];
    clock_format(clock_now(), when);
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->id);
    int rc;
    const char *action;
    if (c->hash) {
        rc = db_exec(d, "UPDATE users SET password_hash = ?, failed_logins = 0, updated_at = ? "
                        "WHERE id = ?", "ttI", c->hash, when, c->id);
        action = "user.password";
    } else if (c->lock) {
        rc = db_exec(d, "UPDATE users SET disabled = 1, updated_at = ? WHERE id = ?", "tI", when,
                     c->id);
        action = "user.lock";
    } else {
        rc = db_exec(d, "UPDATE users SET disabled = 0, locked_until = 0, failed_logins = 0, "
                        "updated_at = ? WHERE id = ?", "tI", when, c->id);
        action = "user.unlock";
    }
    if (rc != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot update user");
    if (db_changes(d) == 0)
        return werr_set(c->e, W_ENOTFOUND, "not_found", "no user %s", idbuf);
    if (c->hash || c->lock) /* a new password or a lock ends the user's sessions */
        db_exec(d, "UPDATE sessions SET revoked = 1 WHERE user_id = ?", "I", c->id);
    return audit_record(d, c->a, action, "user", idbuf, NULL);
}

int user_set_password(store *st, const audit_actor *a, int64_t id, const char *password, werr *e)
{
    if (!password || !valid_text(password, 8, 128))
        return werr_set(e, W_EINVALID, "invalid_field", "password: 8 to 128 characters");
    char hash[128];
    if (crypto_password_hash(password, hash) != 0)
        return werr_set(e, W_EINTERNAL, "hash_failed", "cannot hash password");
    struct pw_ctx c = {a, id, hash, -1, e};
    return store_write(st, pw_tx, &c);
}

int user_set_locked(store *st, const audit_actor *a, int64_t id, int lock, werr *e)
{
    struct pw_ctx c = {a, id, NULL, lock ? 1 : 0, e};
    return store_write(st, pw_tx, &c);
}

int user_id_by_login(store *st, const char *login, int64_t *id, werr *e)
{
    db *d = store_reader(st);
    if (!d)
        return werr_set(e, W_EINTERNAL, "database_unavailable", "cannot open database");
    db_stmt *s = db_query(d, "SELECT id FROM users WHERE login = ?", "t", login);
    int rc = s && db_step(s) == DB_ROW ? WOK : W_ENOTFOUND;
    if (rc == WOK)
        *id = db_col_int64(s, 0);
    db_done(s);
    store_release(st, d);
    if (rc != WOK)
        werr_set(e, rc, "not_found", "no user with login '%s'", login);
    return rc;
}

#define USER_COLS                                                                                  \
    "u.id, u.login, u.name, u.phone, u.role, u.scope_kind, u.scope_grid, u.scope_dept, "          \
    "u.disabled, u.locked_until, u.failed_logins, u.created_at, d.name"

static json_t *user_row(db_stmt *s)
{
    json_t *u = json_object();
    json_object_set_new(u, "id", json_integer(db_col_int64(s, 0)));
    json_object_set_new(u, "login", json_string(db_col_text(s, 1)));
    json_object_set_new(u, "name", json_string(db_col_text(s, 2)));
    json_object_set_new(u, "phone", db_col_text(s, 3) ? json_string(db_col_text(s, 3)) : json_null());
    int role = role_parse(db_col_text(s, 4));
    json_object_set_new(u, "role", json_string(role_name(role)));
    json_object_set_new(u, "role_label", json_string(role_label_zh(role)));
    json_object_set_new(u, "scope_kind", json_string(db_col_text(s, 5)));
    json_object_set_new(u, "scope_grid",
                        db_col_text(s, 6) ? json_string(db_col_text(s, 6)) : json_null());
    json_object_set_new(u, "scope_dept",
                        db_col_int64(s, 7) ? json_integer(db_col_int64(s, 7)) : json_null());
    json_object_set_new(u, "disabled", json_boolean(db_col_int(s, 8)));
    json_object_set_new(u, "locked", json_boolean(db_col_int64(s, 9) > clock_now()));
    json_object_set_new(u, "failed_logins", json_integer(db_col_int(s, 10)));
    json_object_set_new(u, "created_at", json_string(db_col_text(s, 11)));
    json_object_set_new(u, "department",
                        db_col_text(s, 12) ? json_string(db_col_text(s, 12)) : json_null());
    return u;
}

int user_get(db *d, int64_t id, json_t **out, werr *e)
{
    db_stmt *s = db_query(d, "SELECT " USER_COLS " FROM users u LEFT JOIN departments d "
                             "ON d.id = u.scope_dept WHERE u.id = ?", "I", id);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read user");
    int rc = db_step(s);
    if (rc == DB_ROW)
        *out = user_row(s);
    db_done(s);
    if (rc == DB_ROW)
        return WOK;
    return werr_set(e, W_ENOTFOUND, "not_found", "no user %lld", (long long)id);
}

int user_list(db *d, const char *role, int64_t after_id, int limit, json_t **out, werr *e)
{
    if (limit <= 0 || limit > 500)
        limit = 100;
    db_stmt *s = db_query(d, "SELECT " USER_COLS " FROM users u LEFT JOIN departments d "
                             "ON d.id = u.scope_dept WHERE (? IS NULL OR u.role = ?) AND u.id > ? "
                             "ORDER BY u.id LIMIT ?", "ttIi", role, role, after_id, limit + 1);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot list users");
    json_t *items = json_array();
    int n = 0;
    int64_t last = 0, next = 0;
    while (db_step(s) == DB_ROW) {
        if (n == limit) {
            next = last;
            break;
        }
        json_t *u = user_row(s);
        last = json_integer_value(json_object_get(u, "id"));
        json_array_append_new(items, u);
        n++;
    }
    db_done(s);
    *out = json_pack("{s:o, s:o}", "items", items, "next_cursor",
                     next ? json_integer(next) : json_null());
    return WOK;
}
