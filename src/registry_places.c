/*
 * registry_places.c — buildings (实有房屋), organisations (学校/医院/机关),
 * enterprises and shops (企业/商铺/个体工商户), public facilities (部件:
 * 井盖, 路灯, 充电棚 …). They share one shape — a code, a grid, a name,
 * an address, a location and kind-specific columns — so one table of
 * column descriptors (reg_kinds) drives validation, upsert, search, JSON
 * and export for all four. SQL is assembled only from these constant
 * descriptors, never from input.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "department.h"
#include "registry.h"
#include "validate.h"

#define GRID_ALIASES "网格|网格编码|网格名称|所在网格|网格编号"
#define LAT_COL {"lat", "纬度", "lat|latitude|北纬", RC_REAL, 0, NULL}
#define LNG_COL {"lng", "经度", "lng|lon|longitude|东经", RC_REAL, 0, NULL}
#define NOTE_COL {"note", "备注", "说明", RC_TEXT, 0, NULL}
#define END_COL {NULL, NULL, NULL, 0, 0, NULL}

static const char *const building_purposes[] = {
    "residential|住宅", "commercial|商业", "mixed|商住", "office|办公", "industrial|工业",
    "public|公共服务", "other|其他", NULL};
static const char *const org_kinds[] = {
    "school|学校", "kindergarten|幼儿园", "hospital|医院", "clinic|诊所", "office|机关",
    "social|社会组织", "religious|宗教场所", "other|其他", NULL};
static const char *const ent_kinds[] = {"enterprise|企业", "shop|商铺", "individual|个体工商户",
                                        NULL};
static const char *const fac_kinds[] = {
    "manhole_cover|井盖", "street_light|路灯", "charging_shed|充电棚", "fire_hydrant|消防栓",
    "camera|监控探头", "trash_station|垃圾收集点", "bus_stop|公交站", "fitness|健身器材",
    "drain|雨水篦子", "sign|交通标志", "other|其他", NULL};
static const char *const fac_status[] = {"ok|完好", "damaged|破损", "missing|缺失",
                                         "retired|报废", NULL};

static const reg_col building_cols[] = {
    {"code", "楼栋编码", "房屋编号|编码|编号|房屋编码", RC_TEXT, 0, NULL},
    {"grid", "所属网格", GRID_ALIASES, RC_GRID, 0, NULL},
    {"compound", "小区", "小区名称|院落|村组", RC_TEXT, 0, NULL},
    {"name", "楼栋名称", "楼栋号|楼栋|房屋名称|名称|栋号", RC_TEXT, 1, NULL},
    {"address", "地址", "房屋地址|详址|门牌地址", RC_TEXT, 0, NULL},
    {"purpose", "房屋用途", "用途|建筑用途", RC_ENUM, 0, building_purposes},
    {"structure", "建筑结构", "结构|房屋结构", RC_TEXT, 0, NULL},
    {"floors", "层数", "楼层数|地上层数|总层数", RC_INT, 0, NULL},
    {"units", "单元数", "", RC_INT, 0, NULL},
    {"households", "户数", "住户数|总户数", RC_INT, 0, NULL},
    {"built_year", "建成年份", "建成年代|建成时间|建造年份", RC_INT, 0, NULL},
    {"owner", "产权单位", "物业公司|产权人|物业|管理单位", RC_TEXT, 0, NULL},
    LAT_COL, LNG_COL, NOTE_COL, END_COL,
};

static const reg_col org_cols[] = {
    {"code", "统一社会信用代码", "组织机构代码|信用代码|编码|编号", RC_TEXT, 0, NULL},
    {"grid", "所属网格", GRID_ALIASES, RC_GRID, 0, NULL},
    {"name", "单位名称", "名称|机构名称|组织名称", RC_TEXT, 1, NULL},
    {"kind", "单位类别", "类别|类型|单位类型|机构类型", RC_ENUM, 0, org_kinds},
    {"address", "单位地址", "地址|详址", RC_TEXT, 0, NULL},
    {"contact", "负责人", "联系人|法定代表人|负责人姓名", RC_TEXT, 0, NULL},
    {"phone", "联系电话", "电话|办公电话|联系方式", RC_TEXT, 0, NULL},
    {"staff_count", "从业人数", "人数|职工人数|员工人数", RC_INT, 0, NULL},
    LAT_COL, LNG_COL, NOTE_COL, END_COL,
};

static const reg_col ent_cols[] = {
    {"code", "统一社会信用代码", "信用代码|营业执照号|注册号|编码|编号", RC_TEXT, 0, NULL},
    {"grid", "所属网格", GRID_ALIASES, RC_GRID, 0, NULL},
    {"name", "企业名称", "名称|店名|商铺名称|字号名称|单位名称", RC_TEXT, 1, NULL},
    {"kind", "类型", "主体类型|市场主体类型|类别", RC_ENUM, 0, ent_kinds},
    {"industry", "行业", "所属行业|经营范围|行业类别", RC_TEXT, 0, NULL},
    {"address", "经营地址", "地址|详址|住所", RC_TEXT, 0, NULL},
    {"legal_rep", "法定代表人", "经营者|负责人|法人", RC_TEXT, 0, NULL},
    {"phone", "联系电话", "电话|联系方式", RC_TEXT, 0, NULL},
    {"employees", "从业人数", "员工人数|人数", RC_INT, 0, NULL},
    {"risk", "风险等级", "安全风险|风险|重点场所", RC_TEXT, 0, NULL},
    LAT_COL, LNG_COL, NOTE_COL, END_COL,
};

static const reg_col fac_cols[] = {
    {"code", "部件编码", "编号|设施编号|编码|部件编号", RC_TEXT, 0, NULL},
    {"grid", "所属网格", GRID_ALIASES, RC_GRID, 0, NULL},
    {"kind", "部件类型", "设施类型|类型|部件名称|类别", RC_ENUM, 1, fac_kinds},
    {"name", "名称", "设施名称", RC_TEXT, 0, NULL},
    {"address", "位置", "地址|详址|所在位置", RC_TEXT, 0, NULL},
    {"owner_dept", "权属单位", "养护单位|主管部门|管理部门|权属部门", RC_DEPT, 0, NULL},
    {"status", "状态", "部件状态|设施状态", RC_ENUM, 0, fac_status},
    LAT_COL, LNG_COL, NOTE_COL, END_COL,
};

const reg_kind reg_kinds[] = {
    {"buildings", "buildings", "B", "楼栋房屋", building_cols},
    {"organisations", "organisations", "O", "单位组织", org_cols},
    {"enterprises", "enterprises", "E", "企业商铺", ent_cols},
    {"facilities", "facilities", "F", "公共设施", fac_cols},
    {NULL, NULL, NULL, NULL, NULL},
};

const reg_kind *reg_kind_find(const char *name)
{
    for (int i = 0; name && reg_kinds[i].name; i++)
        if (!strcmp(reg_kinds[i].name, name))
            return &reg_kinds[i];
    if (name && !strcmp(name, "organizations"))
        return reg_kind_find("organisations");
    return NULL;
}

int reg_kind_ncols(const reg_kind *k)
{
    int n = 0;
    while (k->cols[n].key)
        n++;
    return n;
}

#define FIELD_ERR(...) werr_set(e, W_EINVALID, "invalid_field", __VA_ARGS__)

/* The code of an enum value given as code or Chinese label; NULL if none. */
static const char *enum_code(const char *const *values, const char *v, char *buf, size_t cap)
{
    for (int i = 0; values[i]; i++) {
        const char *bar = strchr(values[i], '|');
        size_t cl = (size_t)(bar - values[i]);
        if ((strlen(v) == cl && !strncmp(values[i], v, cl)) || !strcmp(bar + 1, v)) {
            snprintf(buf, cap, "%.*s", (int)cl, values[i]);
            return buf;
        }
    }
    return NULL;
}

static const char *enum_zh(const char *const *values, const char *code)
{
    for (int i = 0; code && values[i]; i++) {
        const char *bar = strchr(values[i], '|');
        if (strlen(code) == (size_t)(bar - values[i]) &&
            !strncmp(values[i], code, (size_t)(bar - values[i])))
            return bar + 1;
    }
    return code;
}

static int parse_int(const char *s, int64_t *v)
{
    char *end;
    long long x = strtoll(s, &end, 10);
    /* Excel writes 12 as "12.0" sometimes */
    if (*end == '.' && strspn(end + 1, "0") == strlen(end + 1))
        end += strlen(end);
    if (end == s || *end || x < 0 || x > 100000000)
        return -1;
    *v = x;
    return 0;
}

static int check_cell(const reg_col *c, const char *v, werr *e)
{
    if (!v || !*v) {
        if (c->required)
            return FIELD_ERR("%s %s: required", c->zh, c->key);
        return WOK;
    }
    int64_t iv;
    double dv;
    char *end, buf[64];
    switch (c->type) {
    case RC_INT:
        if (parse_int(v, &iv) != 0)
            return FIELD_ERR("%s %s: not a whole number", c->zh, c->key);
        break;
    case RC_REAL:
        dv = strtod(v, &end);
        if (end == v || *end || !isfinite(dv))
            return FIELD_ERR("%s %s: not a number", c->zh, c->key);
        if (!strcmp(c->key, "lat") && (dv < -90 || dv > 90))
            return FIELD_ERR("%s %s: from -90 to 90", c->zh, c->key);
        if (!strcmp(c->key, "lng") && (dv < -180 || dv > 180))
            return FIELD_ERR("%s %s: from -180 to 180", c->zh, c->key);
        break;
    case RC_ENUM:
        if (!enum_code(c->values, v, buf, sizeof buf)) {
            char list[400] = "";
            size_t len = 0;
            for (int i = 0; c->values[i] && len < sizeof list - 40; i++)
                len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "",
                                        strchr(c->values[i], '|') + 1);
            return FIELD_ERR("%s %s: one of %s", c->zh, c->key, list);
        }
        break;
    default:
        if (!valid_text(v, 1, !strcmp(c->key, "note") ? 500 : 200))
            return FIELD_ERR("%s %s: at most 200 characters, no control characters", c->zh,
                             c->key);
        if (!strcmp(c->key, "code") && !valid_code(v))
            return FIELD_ERR("%s %s: letters, digits, '.', '_' or '-'", c->zh, c->key);
    }
    return WOK;
}

int reg_place_check(const reg_kind *k, const char *const *cells, werr *e)
{
    for (int i = 0; k->cols[i].key; i++) {
        int rc = check_cell(&k->cols[i], cells[i], e);
        if (rc != WOK)
            return rc;
    }
    return WOK;
}

/* Typed values of one row, bound in column order. */
struct vals {
    int n;
    int type[32];
    const char *t[32];
    int64_t i[32];
    double d[32];
    int null[32];
    char enumbuf[32][32];
};

static int bind_vals(db *d, db_stmt **out, const char *sql, struct vals *v, int64_t extra,
                     const char *when);

/* Assembles SQL for a kind; buf must hold 2 KiB. */
static void sql_cols(const reg_kind *k, char *buf, size_t cap, const char *fmt_each,
                     const char *sep, int skip_code)
{
    size_t len = 0;
    buf[0] = '\0';
    int first = 1;
    for (int i = 0; k->cols[i].key; i++) {
        if (skip_code && i == 0)
            continue;
        const char *col = k->cols[i].key;
        if (!strcmp(col, "grid"))
            col = "grid_id";
        len += (size_t)snprintf(buf + len, cap - len, "%s", first ? "" : sep);
        len += (size_t)snprintf(buf + len, cap - len, fmt_each, col, col);
        first = 0;
    }
}

int reg_place_put(db *d, reg_grid_cache *gc, const reg_scope *sc, const reg_kind *k,
                  const char *const *cells, int *what, int64_t *id, werr *e)
{
    int rc = reg_place_check(k, cells, e);
    if (rc != WOK)
        return rc;
    struct vals v;
    memset(&v, 0, sizeof v);
    v.n = reg_kind_ncols(k);
    for (int i = 0; i < v.n; i++) {
        const reg_col *c = &k->cols[i];
        const char *s = cells[i];
        v.type[i] = c->type;
        if ((!s || !*s) && c->type == RC_ENUM && !strcmp(c->key, "status"))
            s = "ok"; /* a facility is in order unless said otherwise */
        v.null[i] = !s || !*s;
        if (v.null[i])
            continue;
        switch (c->type) {
        case RC_INT: parse_int(s, &v.i[i]); break;
        case RC_REAL: v.d[i] = strtod(s, NULL); break;
        case RC_ENUM: v.t[i] = enum_code(c->values, s, v.enumbuf[i], sizeof v.enumbuf[i]); break;
        case RC_GRID: {
            const char *code;
            rc = reg_grid_resolve(d, gc, sc, s, &v.i[i], &code, e);
            if (rc != WOK)
                return rc;
            break;
        }
        case RC_DEPT:
            if (department_id_by_code(d, s, &v.i[i]) != WOK) {
                db_stmt *q = db_query(d, "SELECT id FROM departments WHERE name = ?", "t", s);
                int ok = q && db_step(q) == DB_ROW;
                if (ok)
                    v.i[i] = db_col_int64(q, 0);
                db_done(q);
                if (!ok)
                    return FIELD_ERR("%s %s: no department '%.60s'", c->zh, c->key, s);
            }
            break;
        default: v.t[i] = s;
        }
    }
    if (!sc->all && (v.null[1] || sc->none))
        return FIELD_ERR("所属网格 grid: required (you may only add to your grids)");
    char cols[2048], sql[6144], when[32];
    clock_format(clock_now(), when);
    int64_t existing = 0;
    int changed = 1;
    if (!v.null[0]) {
        /* by code: compare, then update or leave unchanged */
        sql_cols(k, cols, sizeof cols, "%s IS ?%.0s", " AND ", 1);
        snprintf(sql, sizeof sql, "SELECT id, (%s), grid_id FROM %s WHERE code = ?", cols,
                 k->table);
        db_stmt *s = NULL;
        rc = bind_vals(d, &s, sql, &v, 0, NULL);
        if (rc != WOK)
            return werr_set(e, W_EINTERNAL, "database_error", "cannot read %s", k->name);
        if (db_step(s) == DB_ROW) {
            existing = db_col_int64(s, 0);
            changed = !db_col_int(s, 1);
            int64_t og = db_col_int64(s, 2);
            db_done(s);
            if (!sc->all) {
                db_stmt *g = db_query(d, "SELECT code FROM grids WHERE id = ?", "I", og);
                int ok = g && db_step(g) == DB_ROW && reg_scope_covers(sc, db_col_text(g, 0));
                db_done(g);
                if (!ok)
                    return werr_set(e, W_EFORBIDDEN, "out_of_scope",
                                    "%s %s: belongs to a grid outside yours", k->cols[0].zh,
                                    cells[0]);
            }
        } else {
            db_done(s);
        }
    }
    if (existing && !changed) {
        *what = REG_UNCHANGED;
        *id = existing;
        return WOK;
    }
    db_stmt *s = NULL;
    if (existing) {
        sql_cols(k, cols, sizeof cols, "%s = ?%.0s", ", ", 1);
        snprintf(sql, sizeof sql, "UPDATE %s SET %s, updated_at = ? WHERE id = ?", k->table, cols);
        rc = bind_vals(d, &s, sql, &v, existing, when);
        *what = REG_UPDATED;
    } else {
        char qs[512];
        sql_cols(k, cols, sizeof cols, "%s%.0s", ", ", 0);
        size_t ql = 0;
        for (int i = 0; i < v.n; i++)
            ql += (size_t)snprintf(qs + ql, sizeof qs - ql, "?, ");
        snprintf(sql, sizeof sql, "INSERT INTO %s (%s, created_at, updated_at) VALUES (%s?, ?)",
                 k->table, cols, qs);
        rc = bind_vals(d, &s, sql, &v, -1, when);
        *what = REG_CREATED;
    }
    if (rc != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot save %s", k->name);
    int st = db_step(s);
    db_done(s);
    if (st != DB_DONE)
        return werr_set(e, db_last_was_constraint(d) ? W_ECONFLICT : W_EINTERNAL, "database_error",
                        "cannot save %s", k->name);
    *id = existing ? existing : db_last_id(d);
    if (!existing && v.null[0]) {
        /* an automatic code, so that an export re-imports onto the same row */
        char code[32];
        snprintf(code, sizeof code, "%s%06lld", k->code_prefix, (long long)*id);
        snprintf(sql, sizeof sql, "UPDATE %s SET code = ? WHERE id = ?", k->table);
        if (db_exec(d, sql, "tI", code, *id) != WOK)
            return werr_set(e, W_ECONFLICT, "duplicate", "automatic code %s is taken", code);
    }
    return WOK;
}

/* Prepares sql and binds the row's values in column order (skipping code
 * for UPDATE, i.e. when extra > 0), then: extra == 0 → code; extra > 0 →
 * when, id; extra < 0 → when, when. */
static int bind_vals(db *d, db_stmt **out, const char *sql, struct vals *v, int64_t extra,
                     const char *when)
{
    /* db_query takes a types string and arguments; rows have up to 32
     * columns of varying types, so bind through a small fixed table of
     * arities: every value is passed as text, SQLite's type affinity of
     * the INTEGER/REAL columns stores numbers as numbers. */
    const char *a[40];
    char num[40][32];
    int n = 0;
    int start = extra >= 0 ? 1 : 0; /* SELECT and UPDATE match/skip the code */
    for (int i = start; i < v->n; i++) {
        if (v->null[i]) {
            a[n++] = NULL;
        } else if (v->type[i] == RC_INT || v->type[i] == RC_GRID || v->type[i] == RC_DEPT) {
            snprintf(num[n], sizeof num[n], "%lld", (long long)v->i[i]);
            a[n] = num[n];
            n++;
        } else if (v->type[i] == RC_REAL) {
            snprintf(num[n], sizeof num[n], "%.17g", v->d[i]);
            a[n] = num[n];
            n++;
        } else {
            a[n++] = v->t[i];
        }
    }
    if (extra == 0) {
        a[n++] = v->t[0];
    } else if (extra > 0) {
        a[n++] = when;
        snprintf(num[n], sizeof num[n], "%lld", (long long)extra);
        a[n] = num[n];
        n++;
    } else {
        a[n++] = when;
        a[n++] = when;
    }
    char types[41];
    memset(types, 't', (size_t)n);
    types[n] = '\0';
    /* arguments beyond n are ignored by db_query (it reads strlen(types)) */
    *out = db_query(d, sql, types, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9],
                    a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20],
                    a[21], a[22], a[23], a[24], a[25], a[26], a[27], a[28], a[29], a[30], a[31],
                    a[32], a[33], a[34], a[35], a[36], a[37], a[38], a[39]);
    return *out ? WOK : W_EINTERNAL;
}

/* ---- reading --------------------------------------------------------------- */

/* SELECT list: every column (grid as code, dept as code), then id. */
static void select_list(const reg_kind *k, char *buf, size_t cap)
{
    size_t len = 0;
    for (int i = 0; k->cols[i].key; i++) {
        const reg_col *c = &k->cols[i];
        const char *expr;
        char tmp[128];
        if (c->type == RC_GRID)
            expr = "g.code";
        else if (c->type == RC_DEPT) {
            snprintf(tmp, sizeof tmp, "(SELECT code FROM departments WHERE id = x.%s)", c->key);
            expr = tmp;
        } else {
            snprintf(tmp, sizeof tmp, "x.%s", c->key);
            expr = tmp;
        }
        len += (size_t)snprintf(buf + len, cap - len, "%s, ", expr);
    }
    snprintf(buf + len, cap - len, "x.id, g.name, x.created_at, x.updated_at");
}

static json_t *place_row(const reg_kind *k, db_stmt *s)
{
    int n = reg_kind_ncols(k);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(db_col_int64(s, n)));
    for (int i = 0; i < n; i++) {
        const reg_col *c = &k->cols[i];
        json_t *v;
        if (db_col_is_null(s, i))
            v = json_null();
        else if (c->type == RC_INT)
            v = json_integer(db_col_int64(s, i));
        else if (c->type == RC_REAL)
            v = json_real(db_col_double(s, i));
        else
            v = json_string(db_col_text(s, i));
        json_object_set_new(o, c->type == RC_GRID ? "grid_code" : c->key, v);
        if (c->type == RC_ENUM && !db_col_is_null(s, i)) {
            char label[64];
            snprintf(label, sizeof label, "%s_label", c->key);
            json_object_set_new(o, label, json_string(enum_zh(c->values, db_col_text(s, i))));
        }
    }
    json_object_set_new(o, "grid_name",
                        db_col_text(s, n + 1) ? json_string(db_col_text(s, n + 1)) : json_null());
    json_object_set_new(o, "created_at", json_string(db_col_text(s, n + 2)));
    json_object_set_new(o, "updated_at", json_string(db_col_text(s, n + 3)));
    return o;
}

int reg_place_search(db *d, const principal *who, const reg_kind *k, const char *q,
                     const char *grid, int64_t cursor, int limit, json_t **out, werr *e)
{
    reg_scope sc;
    reg_scope_from(who, &sc);
    if (limit <= 0 || limit > 500)
        limit = 50;
    json_t *items = json_array();
    if (sc.none) {
        *out = json_pack("{s:o, s:n}", "items", items, "next_cursor");
        return WOK;
    }
    char glo[64] = "", ghi[64] = "", sel[2048], sql[4096], like[300];
    if (grid)
        reg_code_range(grid, glo, ghi);
    snprintf(like, sizeof like, "%%%s%%", q ? q : "");
    select_list(k, sel, sizeof sel);
    const char *has_name = k->cols[2].key && !strcmp(k->cols[2].key, "name") ? "x.name"
                           : !strcmp(k->cols[3].key, "name")               ? "x.name"
                                                                            : "x.address";
    snprintf(sql, sizeof sql,
             "SELECT %s FROM %s x LEFT JOIN grids g ON g.id = x.grid_id WHERE x.id > ? "
             "AND (? = 1 OR (g.code >= ? AND g.code < ?)) AND (? IS NULL OR (g.code >= ? AND "
             "g.code < ?)) AND (? IS NULL OR x.code = ? OR %s LIKE ? OR x.address LIKE ?) "
             "ORDER BY x.id LIMIT ?",
             sel, k->table, has_name);
    db_stmt *s = db_query(d, sql, "Iittttttttti", cursor, sc.all, sc.lo, sc.hi, grid, glo, ghi,
                          q, q, like, like, limit + 1);
    if (!s) {
        json_decref(items);
        return werr_set(e, W_EINTERNAL, "database_error", "cannot search %s", k->name);
    }
    int n = 0, ncols = reg_kind_ncols(k);
    int64_t last = 0, next = 0;
    while (db_step(s) == DB_ROW) {
        if (n == limit) {
            next = last;
            break;
        }
        json_array_append_new(items, place_row(k, s));
        last = db_col_int64(s, ncols);
        n++;
    }
    db_done(s);
    *out = json_pack("{s:o, s:o}", "items", items, "next_cursor",
                     next ? json_integer(next) : json_null());
    return WOK;
}

int reg_place_get(db *d, const principal *who, const reg_kind *k, int64_t id, json_t **out,
                  werr *e)
{
    reg_scope sc;
    reg_scope_from(who, &sc);
    char sel[2048], sql[4096];
    select_list(k, sel, sizeof sel);
    snprintf(sql, sizeof sql,
             "SELECT %s FROM %s x LEFT JOIN grids g ON g.id = x.grid_id WHERE x.id = ? AND "
             "(? = 1 OR (g.code >= ? AND g.code < ?))", sel, k->table);
    db_stmt *s = db_query(d, sql, "Iitt", id, sc.all, sc.lo, sc.hi);
    json_t *o = NULL;
    if (s && !sc.none && db_step(s) == DB_ROW)
        o = place_row(k, s);
    db_done(s);
    if (!o)
        return werr_set(e, W_ENOTFOUND, "not_found", "no such %s: %lld", k->name, (long long)id);
    *out = o;
    return WOK;
}

struct place_ctx {
    const audit_actor *a;
    const reg_scope *sc;
    const reg_kind *k;
    const char *const *cells;
    int64_t id;
    int what;
    werr *e;
};

static int place_tx(db *d, void *arg)
{
    struct place_ctx *c = arg;
    int rc = reg_place_put(d, NULL, c->sc, c->k, c->cells, &c->what, &c->id, c->e);
    if (rc != WOK || c->what == REG_UNCHANGED)
        return rc;
    char idbuf[24], action[64];
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)c->id);
    snprintf(action, sizeof action, "%s.%s", c->k->name,
             c->what == REG_CREATED ? "create" : "update");
    json_t *detail = json_object();
    for (int i = 0; c->k->cols[i].key; i++)
        if (c->cells[i] && *c->cells[i])
            json_object_set_new(detail, c->k->cols[i].key, json_string(c->cells[i]));
    rc = audit_record(d, c->a, action, c->k->name, idbuf, detail);
    json_decref(detail);
    return rc;
}

int reg_place_save(store *st, const audit_actor *a, const principal *who, const reg_kind *k,
                   json_t *body, int64_t *id, werr *e)
{
    const char *cells[32] = {0};
    char num[32][40];
    int n = reg_kind_ncols(k);
    for (int i = 0; i < n; i++) {
        json_t *v = json_object_get(body, k->cols[i].type == RC_GRID ? "grid" : k->cols[i].key);
        if (!v && k->cols[i].type == RC_GRID)
            v = json_object_get(body, "grid_code");
        if (!v || json_is_null(v))
            continue;
        if (json_is_string(v))
            cells[i] = json_string_value(v);
        else if (json_is_integer(v))
            snprintf(num[i], sizeof num[i], "%lld", (long long)json_integer_value(v)),
                cells[i] = num[i];
        else if (json_is_real(v))
            snprintf(num[i], sizeof num[i], "%.17g", json_real_value(v)), cells[i] = num[i];
        else
            return FIELD_ERR("%s: expected a string or a number", k->cols[i].key);
    }
    reg_scope sc;
    reg_scope_from(who, &sc);
    int rc = reg_place_check(k, cells, e);
    if (rc != WOK)
        return rc;
    struct place_ctx c = {a, &sc, k, cells, 0, 0, e};
    rc = store_write(st, place_tx, &c);
    if (rc == WOK)
        *id = c.id;
    return rc;
}

int reg_place_export(db *d, const principal *who, const reg_kind *k, table_sink *out,
                     int64_t *rows, werr *e)
{
    reg_scope sc;
    reg_scope_from(who, &sc);
    *rows = 0;
    int n = reg_kind_ncols(k);
    const char *h[32];
    for (int i = 0; i < n; i++)
        h[i] = k->cols[i].zh;
    if (out->row(out->ctx, h, n) != 0)
        return werr_set(e, W_EINTERNAL, "write_failed", "cannot write export");
    if (sc.none)
        return WOK;
    char sel[2048], sql[4096];
    select_list(k, sel, sizeof sel);
    snprintf(sql, sizeof sql,
             "SELECT %s FROM %s x LEFT JOIN grids g ON g.id = x.grid_id WHERE (? = 1 OR "
             "(g.code >= ? AND g.code < ?)) ORDER BY x.id", sel, k->table);
    db_stmt *s = db_query(d, sql, "itt", sc.all, sc.lo, sc.hi);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot export %s", k->name);
    int rc = WOK;
    while (db_step(s) == DB_ROW) {
        const char *cells[32];
        char num[32][40];
        for (int i = 0; i < n; i++) {
            const reg_col *c = &k->cols[i];
            if (db_col_is_null(s, i))
                cells[i] = NULL;
            else if (c->type == RC_REAL) {
                snprintf(num[i], sizeof num[i], "%.8f", db_col_double(s, i));
                /* trim trailing zeros: 30.12000000 → 30.12 */
                char *z = num[i] + strlen(num[i]) - 1;
                while (z > num[i] && *z == '0')
                    *z-- = '\0';
                if (*z == '.')
                    *z = '\0';
                cells[i] = num[i];
            } else if (c->type == RC_ENUM)
                cells[i] = enum_zh(c->values, db_col_text(s, i));
            else
                cells[i] = db_col_text(s, i);
        }
        if (out->row(out->ctx, cells, n) != 0) {
            rc = werr_set(e, W_EINTERNAL, "write_failed", "cannot write export");
            break;
        }
        (*rows)++;
    }
    db_done(s);
    return rc;
}
