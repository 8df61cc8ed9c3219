#include "roster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "grid.h"
#include "validate.h"

#define FIELD_ERR(...) werr_set(e, W_EINVALID, "invalid_field", __VA_ARGS__)

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* ---- staff and duties (grid_duties) ---------------------------------------- */

const reg_col roster_staff_cols[] = {
    {"name", "姓名", "名字|人员姓名|网格员姓名", RC_TEXT, 1, NULL},
    {"phone", "联系电话", "手机号|手机号码|电话|联系方式|手机", RC_TEXT, 0, NULL},
    {"duty", "职责", "职务|岗位|网格职务|身份", RC_TEXT, 1, NULL},
    {"grid", "所属网格", "网格|网格编码|网格名称|所在网格|网格编号", RC_GRID, 1, NULL},
    {NULL, NULL, NULL, 0, 0, NULL},
};

int roster_staff_list(db *d, const principal *who, const char *grid, const char *duty,
                      json_t **out, werr *e)
{
    reg_scope sc;
    reg_scope_from(who, &sc);
    /* the roster is not personal data of residents: departments see it too */
    if (who && who->scope_kind == SCOPE_DEPT)
        sc.all = 1, sc.none = 0;
    char glo[64] = "", ghi[64] = "";
    if (grid)
        reg_code_range(grid, glo, ghi);
    const char *dk = duty ? grid_duty_parse(duty) : NULL;
    if (duty && !dk)
        return FIELD_ERR("duty: unknown duty '%.40s'", duty);
    json_t *items = json_array();
    if (sc.none) {
        *out = json_pack("{s:o}", "items", items);
        return WOK;
    }
    db_stmt *s = db_query(d,
                          "SELECT coalesce(u.name, x.name), coalesce(x.phone, u.phone), x.user_id, "
                          "g.code, g.name, x.duty FROM grid_duties x JOIN grids g ON g.id = "
                          "x.grid_id LEFT JOIN users u ON u.id = x.user_id WHERE g.status = "
                          "'active' AND (? = 1 OR (g.code >= ? AND g.code < ?)) AND (? IS NULL OR "
                          "(g.code >= ? AND g.code < ?)) AND (? IS NULL OR x.duty = ?) ORDER BY "
                          "coalesce(u.name, x.name), coalesce(x.phone, u.phone), g.code, x.duty "
                          "LIMIT 20000",
                          "itttttt" "t", sc.all, sc.lo, sc.hi, grid, glo, ghi, dk, dk);
    if (!s) {
        json_decref(items);
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read the roster");
    }
    json_t *cur = NULL;
    char key[256] = "";
    while (db_step(s) == DB_ROW) {
        char k[256];
        snprintf(k, sizeof k, "%s|%s", db_col_text(s, 0) ? db_col_text(s, 0) : "",
                 db_col_text(s, 1) ? db_col_text(s, 1) : "");
        if (!cur || strcmp(k, key) != 0) {
            cur = json_pack("{s:o, s:o, s:o, s:[]}", "name", jstr(db_col_text(s, 0)), "phone",
                            jstr(db_col_text(s, 1)), "user_id",
                            db_col_is_null(s, 2) ? json_null() : json_integer(db_col_int64(s, 2)),
                            "duties");
            json_array_append_new(items, cur);
            snprintf(key, sizeof key, "%s", k);
        }
        json_array_append_new(json_object_get(cur, "duties"),
                              json_pack("{s:s, s:s, s:s, s:s}", "grid_code", db_col_text(s, 3),
                                        "grid_name", db_col_text(s, 4), "duty", db_col_text(s, 5),
                                        "duty_label", grid_duty_label(db_col_text(s, 5))));
    }
    db_done(s);
    *out = json_pack("{s:o}", "items", items);
    return WOK;
}

/* Next duty of a list such as "网格长、楼栋长" (separators 、 , ， ; ； / and
 * spaces; multi-byte separators matched whole, never byte by byte). */
static int next_duty(const char **p, char *out, size_t cap)
{
    static const char *const seps[] = {"、", ",", "，", ";", "；", "/", " ", "　", NULL};
    size_t n = 0;
    while (**p) {
        size_t sl = 0;
        for (int i = 0; seps[i]; i++)
            if (!strncmp(*p, seps[i], strlen(seps[i]))) {
                sl = strlen(seps[i]);
                break;
            }
        if (sl) {
            *p += sl;
            if (n)
                break;
            continue;
        }
        if (n + 1 < cap)
            out[n++] = **p;
        (*p)++;
    }
    out[n] = '\0';
    return n > 0;
}

int roster_staff_check(const char *const *cells, werr *e)
{
    if (!cells[0] || !valid_text(cells[0], 1, 64))
        return FIELD_ERR("姓名 name: 1 to 64 characters");
    if (cells[1] && *cells[1] && !valid_phone(cells[1]))
        return FIELD_ERR("联系电话 phone: not a phone number");
    if (!cells[2] || !*cells[2])
        return FIELD_ERR("职责 duty: required");
    /* several duties in one cell: 网格长、楼栋长 */
    char t[64];
    for (const char *p = cells[2]; next_duty(&p, t, sizeof t);)
        if (!grid_duty_parse(t))
            return FIELD_ERR("职责 duty: '%.40s' is not one of 网格长, 网格员, 微网格长, 楼栋长, "
                             "单元长, 党员中心户", t);
    if (!cells[3] || !*cells[3])
        return FIELD_ERR("所属网格 grid: required");
    return WOK;
}

int roster_staff_put(db *d, reg_grid_cache *gc, const reg_scope *sc, const char *const *cells,
                     int *what, int64_t *id, werr *e)
{
    int rc = roster_staff_check(cells, e);
    if (rc != WOK)
        return rc;
    int64_t gid;
    const char *code;
    if ((rc = reg_grid_resolve(d, gc, sc, cells[3], &gid, &code, e)) != WOK)
        return rc;
    const char *phone = cells[1] && *cells[1] ? cells[1] : NULL;
    char t[64];
    *what = REG_UNCHANGED;
    for (const char *p = cells[2]; next_duty(&p, t, sizeof t);) {
        const char *duty = grid_duty_parse(t);
        db_stmt *s = db_query(d, "SELECT id FROM grid_duties WHERE grid_id = ? AND duty = ? AND "
                                 "name = ? AND (phone IS ? OR phone = ?)", "Itttt", gid, duty,
                              cells[0], phone, phone);
        int64_t found = 0;
        if (s && db_step(s) == DB_ROW)
            found = db_col_int64(s, 0);
        db_done(s);
        if (found) {
            *id = found;
            continue;
        }
        if (db_exec(d, "INSERT INTO grid_duties (grid_id, duty, name, phone, position) VALUES "
                       "(?, ?, ?, ?, (SELECT coalesce(max(position), -1) + 1 FROM grid_duties "
                       "WHERE grid_id = ?))", "ItttI", gid, duty, cells[0], phone, gid) != WOK)
            return werr_set(e, W_EINTERNAL, "database_error", "cannot save duty");
        *id = db_last_id(d);
        *what = REG_CREATED;
    }
    return WOK;
}

int roster_staff_export(db *d, const principal *who, table_sink *out, int64_t *rows, werr *e)
{
    reg_scope sc;
    reg_scope_from(who, &sc);
    *rows = 0;
    const char *h[4] = {"姓名", "联系电话", "职责", "所属网格"};
    if (out->row(out->ctx, h, 4) != 0)
        return werr_set(e, W_EINTERNAL, "write_failed", "cannot write export");
    if (sc.none)
        return WOK;
    db_stmt *s = db_query(d, "SELECT coalesce(u.name, x.name), coalesce(x.phone, u.phone), "
                             "x.duty, g.code FROM grid_duties x JOIN grids g ON g.id = x.grid_id "
                             "LEFT JOIN users u ON u.id = x.user_id WHERE g.status = 'active' AND "
                             "(? = 1 OR (g.code >= ? AND g.code < ?)) ORDER BY g.code, x.position, "
                             "x.id", "itt", sc.all, sc.lo, sc.hi);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot export staff");
    int rc = WOK;
    while (db_step(s) == DB_ROW) {
        const char *c[4] = {db_col_text(s, 0), db_col_text(s, 1),
                            grid_duty_label(db_col_text(s, 2)), db_col_text(s, 3)};
        if (out->row(out->ctx, c, 4) != 0) {
            rc = werr_set(e, W_EINTERNAL, "write_failed", "cannot write export");
            break;
        }
        (*rows)++;
    }
    db_done(s);
    return rc;
}

/* ---- department contacts ----------------------------------------------------- */

struct contact_ctx {
    const audit_actor *a;
    int64_t dept_id, id;
    const char *name, *title, *phone;
    werr *e;
};

static int contact_tx(db *d, void *arg)
{
    struct contact_ctx *c = arg;
    char when[32], idbuf[24];
    clock_format(clock_now(), when);
    if (db_exec(d, "INSERT INTO dept_contacts (dept_id, name, title, phone, created_at) VALUES "
                   "(?, ?, ?, ?, ?)", "Itttt", c->dept_id, c->name, c->title, c->phone,
                when) != WOK)
        return werr_set(c->e, W_ENOTFOUND, "not_found", "no department %lld",
                        (long long)c->dept_id);
    c->id = db_last_id(d);
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->dept_id);
    json_t *detail = json_pack("{s:s, s:s?}", "name", c->name, "title", c->title);
    int rc = audit_record(d, c->a, "department.contact_add", "department", idbuf, detail);
    json_decref(detail);
    return rc;
}

int roster_contact_add(store *st, const audit_actor *a, int64_t dept_id, const char *name,
                       const char *title, const char *phone, int64_t *id, werr *e)
{
    if (!name || !valid_text(name, 1, 64))
        return FIELD_ERR("name: 1 to 64 characters");
    if (title && !valid_text(title, 0, 64))
        return FIELD_ERR("title: at most 64 characters");
    if (phone && *phone && !valid_phone(phone))
        return FIELD_ERR("phone: not a phone number");
    struct contact_ctx c = {a, dept_id, 0, name, title, phone, e};
    int rc = store_write(st, contact_tx, &c);
    if (rc == WOK)
        *id = c.id;
    return rc;
}

int roster_contacts(db *d, int64_t dept_id, json_t **out, werr *e)
{
    db_stmt *s = db_query(d, "SELECT id, name, title, phone FROM dept_contacts WHERE dept_id = ? "
                             "ORDER BY id", "I", dept_id);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read contacts");
    json_t *items = json_array();
    while (db_step(s) == DB_ROW)
        json_array_append_new(items, json_pack("{s:I, s:s, s:o, s:o}", "id",
                                               (json_int_t)db_col_int64(s, 0), "name",
                                               db_col_text(s, 1), "title", jstr(db_col_text(s, 2)),
                                               "phone", jstr(db_col_text(s, 3))));
    db_done(s);
    *out = json_pack("{s:o}", "items", items);
    return WOK;
}

/* ---- party organisations -------------------------------------------------------- */

static const char *const party_levels[][2] = {
    {"working_committee", "街道党工委"},
    {"committee", "社区党委"},
    {"branch", "小区党支部"},
    {"group", "楼栋党小组"},
};

static const char *party_level_parse(const char *s)
{
    for (int i = 0; s && i < 4; i++)
        if (!strcmp(s, party_levels[i][0]) || !strcmp(s, party_levels[i][1]))
            return party_levels[i][0];
    if (s && (!strcmp(s, "社区大党委") || !strcmp(s, "社区党总支")))
        return "committee";
    if (s && (!strcmp(s, "网格党支部") || !strcmp(s, "党支部")))
        return "branch";
    if (s && (!strcmp(s, "党小组") || !strcmp(s, "庭院党小组")))
        return "group";
    return NULL;
}

static const char *party_level_label(const char *k)
{
    for (int i = 0; k && i < 4; i++)
        if (!strcmp(k, party_levels[i][0]))
            return party_levels[i][1];
    return k ? k : "";
}

static int level_rank(const char *k)
{
    for (int i = 0; k && i < 4; i++)
        if (!strcmp(k, party_levels[i][0]))
            return i;
    return -1;
}

struct org_ctx {
    const audit_actor *a;
    const reg_scope *sc;
    const party_org_input *in;
    const char *level;
    int64_t id;
    werr *e;
};

static int org_tx(db *d, void *arg)
{
    struct org_ctx *c = arg;
    werr *e = c->e;
    int64_t gid = 0;
    const char *code = NULL;
    if (c->in->grid) {
        int rc = reg_grid_resolve(d, NULL, c->sc, c->in->grid, &gid, &code, e);
        if (rc != WOK)
            return rc;
    } else if (!c->sc->all) {
        return FIELD_ERR("grid: required");
    }
    if (c->in->parent_id) {
        db_stmt *s = db_query(d, "SELECT level FROM party_orgs WHERE id = ?", "I",
                              c->in->parent_id);
        int prank = -2;
        if (s && db_step(s) == DB_ROW)
            prank = level_rank(db_col_text(s, 0));
        db_done(s);
        if (prank == -2)
            return FIELD_ERR("parent_id: no party organisation %lld", (long long)c->in->parent_id);
        if (prank >= level_rank(c->level))
            return FIELD_ERR("level: must be below the parent's level (街道党工委 → 社区党委 → "
                             "小区党支部 → 楼栋党小组)");
    }
    char when[32], idbuf[24];
    clock_format(clock_now(), when);
    if (db_exec(d, "INSERT INTO party_orgs (parent_id, grid_id, level, name, secretary, "
                   "created_at) VALUES (NULLIF(?, 0), NULLIF(?, 0), ?, ?, ?, ?)", "IItttt",
                c->in->parent_id, gid, c->level, c->in->name, c->in->secretary, when) != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot create party organisation");
    c->id = db_last_id(d);
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->id);
    json_t *detail = json_pack("{s:s, s:s}", "name", c->in->name, "level", c->level);
    int rc = audit_record(d, c->a, "party_org.create", "party_org", idbuf, detail);
    json_decref(detail);
    return rc;
}

int party_org_create(store *st, const audit_actor *a, const principal *who,
                     const party_org_input *in, int64_t *id, werr *e)
{
    const char *level = party_level_parse(in->level);
    if (!level)
        return FIELD_ERR("level: 街道党工委, 社区党委, 小区党支部 or 楼栋党小组");
    if (!in->name || !valid_text(in->name, 1, 64))
        return FIELD_ERR("name: 1 to 64 characters");
    if (in->secretary && !valid_text(in->secretary, 0, 64))
        return FIELD_ERR("secretary: at most 64 characters");
    reg_scope sc;
    reg_scope_from(who, &sc);
    struct org_ctx c = {a, &sc, in, level, 0, e};
    int rc = store_write(st, org_tx, &c);
    if (rc == WOK)
        *id = c.id;
    return rc;
}

#define ORG_COLS                                                                                 \
    "o.id, o.parent_id, o.level, o.name, o.secretary, g.code, g.name, (SELECT count(*) FROM "     \
    "party_members m WHERE m.org_id = o.id)"

static json_t *org_row(db_stmt *s)
{
    return json_pack("{s:I, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:I}", "id",
                     (json_int_t)db_col_int64(s, 0), "parent_id",
                     db_col_is_null(s, 1) ? json_null() : json_integer(db_col_int64(s, 1)),
                     "level", db_col_text(s, 2), "level_label",
                     party_level_label(db_col_text(s, 2)), "name", db_col_text(s, 3),
                     "secretary", jstr(db_col_text(s, 4)), "grid_code", jstr(db_col_text(s, 5)),
                     "grid_name", jstr(db_col_text(s, 6)), "members",
                     (json_int_t)db_col_int64(s, 7));
}

int party_org_list(db *d, const principal *who, const char *grid, json_t **out, werr *e)
{
    reg_scope sc;
    reg_scope_from(who, &sc);
    if (who && who->scope_kind == SCOPE_DEPT)
        sc.all = 1, sc.none = 0;
    char glo[64] = "", ghi[64] = "";
    if (grid)
        reg_code_range(grid, glo, ghi);
    json_t *items = json_array();
    db_stmt *s = db_query(d, "SELECT " ORG_COLS " FROM party_orgs o LEFT JOIN grids g ON g.id = "
                             "o.grid_id WHERE (? = 1 OR (g.code >= ? AND g.code < ?)) AND (? IS "
                             "NULL OR (g.code >= ? AND g.code < ?)) ORDER BY g.code, o.id LIMIT "
                             "20000", "itttt" "t", sc.all, sc.lo, sc.hi, grid, glo, ghi);
    if (!s) {
        json_decref(items);
        return werr_set(e, W_EINTERNAL, "database_error", "cannot list party organisations");
    }
    while (!sc.none && db_step(s) == DB_ROW)
        json_array_append_new(items, org_row(s));
    db_done(s);
    *out = json_pack("{s:o}", "items", items);
    return WOK;
}

int party_org_get(db *d, const principal *who, int64_t id, json_t **out, werr *e)
{
    reg_scope sc;
    reg_scope_from(who, &sc);
    if (who && who->scope_kind == SCOPE_DEPT)
        sc.all = 1, sc.none = 0;
    db_stmt *s = db_query(d, "SELECT " ORG_COLS " FROM party_orgs o LEFT JOIN grids g ON g.id = "
                             "o.grid_id WHERE o.id = ? AND (? = 1 OR (g.code >= ? AND g.code < ?))",
                          "Iitt", id, sc.all, sc.lo, sc.hi);
    json_t *o = NULL;
    if (s && !sc.none && db_step(s) == DB_ROW)
        o = org_row(s);
    db_done(s);
    if (!o)
        return werr_set(e, W_ENOTFOUND, "not_found", "no party organisation %lld", (long long)id);
    json_t *members = json_array();
    s = db_query(d, "SELECT m.id, m.name, m.phone, m.user_id, m.role FROM party_members m WHERE "
                    "m.org_id = ? ORDER BY m.id", "I", id);
    while (s && db_step(s) == DB_ROW) {
        json_t *m = json_pack("{s:I, s:s, s:o, s:o, s:s, s:[]}", "id",
                              (json_int_t)db_col_int64(s, 0), "name", db_col_text(s, 1), "phone",
                              jstr(db_col_text(s, 2)), "user_id",
                              db_col_is_null(s, 3) ? json_null() : json_integer(db_col_int64(s, 3)),
                              "role", db_col_text(s, 4), "households");
        db_stmt *h = db_query(d, "SELECT h.id, h.address FROM party_member_households x JOIN "
                                 "households h ON h.id = x.household_id WHERE x.member_id = ? "
                                 "ORDER BY h.id", "I", db_col_int64(s, 0));
        while (h && db_step(h) == DB_ROW)
            json_array_append_new(json_object_get(m, "households"),
                                  json_pack("{s:I, s:s}", "id", (json_int_t)db_col_int64(h, 0),
                                            "address", db_col_text(h, 1)));
        db_done(h);
        json_array_append_new(members, m);
    }
    db_done(s);
    json_object_set_new(o, "member_list", members);
    json_t *children = json_array();
    s = db_query(d, "SELECT " ORG_COLS " FROM party_orgs o LEFT JOIN grids g ON g.id = o.grid_id "
                    "WHERE o.parent_id = ? ORDER BY o.id", "I", id);
    while (s && db_step(s) == DB_ROW)
        json_array_append_new(children, org_row(s));
    db_done(s);
    json_object_set_new(o, "children", children);
    *out = o;
    return WOK;
}

struct member_ctx {
    const audit_actor *a;
    const reg_scope *sc;
    int64_t org_id, user_id, id;
    const char *name, *phone, *role;
    const json_t *households;
    werr *e;
};

static int member_tx(db *d, void *arg)
{
    struct member_ctx *c = arg;
    werr *e = c->e;
    db_stmt *s = db_query(d, "SELECT g.code FROM party_orgs o LEFT JOIN grids g ON g.id = "
                             "o.grid_id WHERE o.id = ?", "I", c->org_id);
    int ok = s && db_step(s) == DB_ROW && (c->sc->all || reg_scope_covers(c->sc, db_col_text(s, 0)));
    db_done(s);
    if (!ok)
        return werr_set(e, W_ENOTFOUND, "not_found", "no party organisation %lld",
                        (long long)c->org_id);
    char when[32], idbuf[24];
    clock_format(clock_now(), when);
    if (db_exec(d, "INSERT INTO party_members (org_id, name, phone, user_id, role, created_at) "
                   "VALUES (?, ?, ?, NULLIF(?, 0), ?, ?)", "IttItt", c->org_id, c->name,
                c->phone, c->user_id, c->role, when) != WOK)
        return FIELD_ERR("user_id: no such user");
    c->id = db_last_id(d);
    size_t i;
    json_t *h;
    json_array_foreach(c->households, i, h)
    {
        int64_t hid = json_integer_value(h);
        s = db_query(d, "SELECT g.code FROM households x LEFT JOIN grids g ON g.id = x.grid_id "
                        "WHERE x.id = ?", "I", hid);
        ok = s && db_step(s) == DB_ROW && (c->sc->all || reg_scope_covers(c->sc, db_col_text(s, 0)));
        db_done(s);
        if (!ok)
            return FIELD_ERR("households[%zu]: no household %lld", i, (long long)hid);
        if (db_exec(d, "INSERT INTO party_member_households (member_id, household_id) VALUES "
                       "(?, ?)", "II", c->id, hid) != WOK)
            return FIELD_ERR("households[%zu]: given twice", i);
    }
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->org_id);
    json_t *detail = json_pack("{s:s, s:s, s:I}", "member", c->name, "role", c->role,
                               "households", (json_int_t)json_array_size(c->households));
    int rc = audit_record(d, c->a, "party_org.member_add", "party_org", idbuf, detail);
    json_decref(detail);
    return rc;
}

int party_member_add(store *st, const audit_actor *a, const principal *who, int64_t org_id,
                     const char *name, const char *phone, int64_t user_id, const char *role,
                     const json_t *households, int64_t *id, werr *e)
{
    static const char *const roles[] = {"member", "secretary", "central_household", NULL};
    if (!name || !valid_text(name, 1, 64))
        return FIELD_ERR("name: 1 to 64 characters");
    if (phone && *phone && !valid_phone(phone))
        return FIELD_ERR("phone: not a phone number");
    int ok = !role;
    for (int i = 0; role && roles[i]; i++)
        ok |= !strcmp(role, roles[i]);
    if (!ok)
        return FIELD_ERR("role: member, secretary or central_household");
    if (households && !json_is_array(households))
        return FIELD_ERR("households: an array of household ids");
    size_t i;
    json_t *h;
    json_array_foreach(households, i, h) if (!json_is_integer(h) || json_integer_value(h) < 1)
        return FIELD_ERR("households[%zu]: a household id", i);
    reg_scope sc;
    reg_scope_from(who, &sc);
    json_t *empty = json_array();
    struct member_ctx c = {a, &sc, org_id, user_id, 0, name, phone, role ? role : "member",
                           households ? households : empty, e};
    int rc = store_write(st, member_tx, &c);
    json_decref(empty);
    if (rc == WOK)
        *id = c.id;
    return rc;
}

/* ---- representatives ------------------------------------------------------------- */

static const char *const rep_kinds[][2] = {
    {"party_congress", "党代表"}, {"npc", "人大代表"}, {"cppcc", "政协委员"}};

static const char *rep_kind_parse(const char *s)
{
    for (int i = 0; s && i < 3; i++)
        if (!strcmp(s, rep_kinds[i][0]) || !strcmp(s, rep_kinds[i][1]))
            return rep_kinds[i][0];
    return NULL;
}

static const char *rep_kind_label(const char *k)
{
    for (int i = 0; k && i < 3; i++)
        if (!strcmp(k, rep_kinds[i][0]))
            return rep_kinds[i][1];
    return k ? k : "";
}

struct rep_ctx {
    const audit_actor *a;
    const char *name, *phone, *kind, *level, *grid;
    int64_t user_id, id;
    werr *e;
};

static int rep_tx(db *d, void *arg)
{
    struct rep_ctx *c = arg;
    werr *e = c->e;
    int64_t gid = 0;
    const char *code;
    reg_scope all = {1, 0, "", ""};
    if (c->grid && reg_grid_resolve(d, NULL, &all, c->grid, &gid, &code, e) != WOK)
        return e->rc;
    char when[32], idbuf[24];
    clock_format(clock_now(), when);
    if (db_exec(d, "INSERT INTO representatives (name, phone, user_id, kind, level, grid_id, "
                   "created_at) VALUES (?, ?, NULLIF(?, 0), ?, ?, NULLIF(?, 0), ?)", "ttIttIt",
                c->name, c->phone, c->user_id, c->kind, c->level, gid, when) != WOK)
        return FIELD_ERR("user_id: no such user");
    c->id = db_last_id(d);
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->id);
    json_t *detail = json_pack("{s:s, s:s}", "name", c->name, "kind", c->kind);
    int rc = audit_record(d, c->a, "representative.create", "representative", idbuf, detail);
    json_decref(detail);
    return rc;
}

int representative_create(store *st, const audit_actor *a, const char *name, const char *phone,
                          int64_t user_id, const char *kind, const char *level,
                          const char *grid, int64_t *id, werr *e)
{
    const char *k = rep_kind_parse(kind);
    if (!k)
        return FIELD_ERR("kind: 党代表 party_congress, 人大代表 npc or 政协委员 cppcc");
    if (!name || !valid_text(name, 1, 64))
        return FIELD_ERR("name: 1 to 64 characters");
    if (phone && *phone && !valid_phone(phone))
        return FIELD_ERR("phone: not a phone number");
    if (level && !valid_text(level, 0, 20))
        return FIELD_ERR("level: at most 20 characters");
    struct rep_ctx c = {a, name, phone, k, level, grid, user_id, 0, e};
    int rc = store_write(st, rep_tx, &c);
    if (rc == WOK)
        *id = c.id;
    return rc;
}

int representative_list(db *d, json_t **out, werr *e)
{
    db_stmt *s = db_query(d, "SELECT r.id, r.name, r.phone, r.user_id, r.kind, r.level, g.code, "
                             "g.name FROM representatives r LEFT JOIN grids g ON g.id = r.grid_id "
                             "ORDER BY r.id LIMIT 10000", "");
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot list representatives");
    json_t *items = json_array();
    while (db_step(s) == DB_ROW)
        json_array_append_new(
            items, json_pack("{s:I, s:s, s:o, s:o, s:s, s:s, s:o, s:o, s:o}", "id",
                             (json_int_t)db_col_int64(s, 0), "name", db_col_text(s, 1), "phone",
                             jstr(db_col_text(s, 2)), "user_id",
                             db_col_is_null(s, 3) ? json_null() : json_integer(db_col_int64(s, 3)),
                             "kind", db_col_text(s, 4), "kind_label",
                             rep_kind_label(db_col_text(s, 4)), "level", jstr(db_col_text(s, 5)),
                             "grid_code", jstr(db_col_text(s, 6)), "grid_name",
                             jstr(db_col_text(s, 7))));
    db_done(s);
    *out = json_pack("{s:o}", "items", items);
    return WOK;
}
