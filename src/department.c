#include "department.h"

#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "validate.h"

int department_insert(db *d, const audit_actor *a, const department_input *in, int64_t *id,
                      werr *e)
{
    static const char *const kinds[] = {"department", "unit", "enterprise", NULL};
    const char *kind = in->kind ? in->kind : "department";
    int kind_ok = 0;
    for (int i = 0; kinds[i]; i++)
        kind_ok |= strcmp(kind, kinds[i]) == 0;
    if (!valid_code(in->code))
        return werr_set(e, W_EINVALID, "invalid_field", "code: letters, digits, '.', '_', '-'");
    if (!valid_text(in->name, 1, 64))
        return werr_set(e, W_EINVALID, "invalid_field", "name: 1 to 64 characters");
    if (!kind_ok)
        return werr_set(e, W_EINVALID, "invalid_field", "kind: department, unit or enterprise");
    char when[32];
    clock_format(clock_now(), when);
    int rc = db_exec(d, "INSERT INTO departments (code, name, name_en, kind, contact, phone, "
                        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     "ttttttt", in->code, in->name, in->name_en, kind, in->contact, in->phone,
                     when);
    if (rc == W_ECONFLICT)
        return werr_set(e, W_ECONFLICT, "code_taken", "department code '%s' exists", in->code);
    if (rc != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot create department");
    *id = db_last_id(d);
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)*id);
    json_t *detail = json_pack("{s:s, s:s}", "code", in->code, "name", in->name);
    rc = audit_record(d, a, "department.create", "department", idbuf, detail);
    json_decref(detail);
    return rc;
}

struct dept_ctx {
    const audit_actor *a;
    const department_input *in;
    int64_t id;
    werr *e;
};

static int create_tx(db *d, void *arg)
{
    struct dept_ctx *c = arg;
    return department_insert(d, c->a, c->in, &c->id, c->e);
}

int department_create(store *st, const audit_actor *a, const department_input *in, int64_t *id,
                      werr *e)
{
    struct dept_ctx c = {a, in, 0, e};
    int rc = store_write(st, create_tx, &c);
    if (rc == WOK)
        *id = c.id;
    return rc;
}

int department_list(db *d, json_t **out, werr *e)
{
    db_stmt *s = db_query(d, "SELECT id, code, name, name_en, kind, contact, phone, active "
                             "FROM departments ORDER BY code", "");
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot list departments");
    json_t *items = json_array();
    while (db_step(s) == DB_ROW) {
        json_array_append_new(
            items, json_pack("{s:I, s:s, s:s, s:s?, s:s, s:s?, s:s?, s:b}", "id",
                             (json_int_t)db_col_int64(s, 0), "code", db_col_text(s, 1), "name",
                             db_col_text(s, 2), "name_en", db_col_text(s, 3), "kind",
                             db_col_text(s, 4), "contact", db_col_text(s, 5), "phone",
                             db_col_text(s, 6), "active", db_col_int(s, 7)));
    }
    db_done(s);
    *out = json_pack("{s:o}", "items", items);
    return WOK;
}

int department_id_by_code(db *d, const char *code, int64_t *id)
{
    db_stmt *s = db_query(d, "SELECT id FROM departments WHERE code = ?", "t", code);
    int rc = (s && db_step(s) == DB_ROW) ? WOK : W_ENOTFOUND;
    if (rc == WOK)
        *id = db_col_int64(s, 0);
    db_done(s);
    return rc;
}
