/*
 * grid.c — the grid tree: levels, codes, create/update, split/merge/retire
 * with history, and the scoped reads (contract in grid.h).
 *
 * Statements are cached per connection by SQL text, so a statement is never
 * re-entered while it is being stepped: recursive walks (moving a subtree)
 * first collect the rows they need, then recurse.
 */
#include "grid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crypto.h"
#include "geo.h"
#include "grid_impl.h"
#include "locate.h"
#include "validate.h"

/* ---- vocabularies ------------------------------------------------------ */

static const char *const kinds[][2] = {
    {"residential", "住宅小区"}, {"rural", "林盘院落"},  {"shops", "沿街商铺"},
    {"scenic", "景区"},          {"institution", "机关企事业单位"},
    {"park", "园区"},            {"other", "其他"},
};
#define NKINDS ((int)(sizeof kinds / sizeof kinds[0]))

static const char *const duties[][2] = {
    {"grid_head", "网格长"},   {"grid_worker", "网格员"}, {"micro_head", "微网格长"},
    {"building_head", "楼栋长"}, {"unit_head", "单元长"},   {"party_household", "党员中心户"},
};
#define NDUTIES ((int)(sizeof duties / sizeof duties[0]))

const char *const grid_duty_keys[] = {"grid_head",     "grid_worker", "micro_head",
                                      "building_head", "unit_head",   "party_household",
                                      NULL};

const char *grid_kind_parse(const char *s)
{
    for (int i = 0; s && i < NKINDS; i++)
        if (strcmp(s, kinds[i][0]) == 0 || strcmp(s, kinds[i][1]) == 0)
            return kinds[i][0];
    /* common synonyms from spreadsheets */
    if (s && (strcmp(s, "林盘") == 0 || strcmp(s, "散居院落") == 0 || strcmp(s, "农村") == 0))
        return "rural";
    if (s && (strcmp(s, "小区") == 0 || strcmp(s, "居民小区") == 0))
        return "residential";
    if (s && (strcmp(s, "商铺") == 0 || strcmp(s, "街区") == 0))
        return "shops";
    if (s && (strcmp(s, "企业园区") == 0 || strcmp(s, "产业园区") == 0))
        return "park";
    if (s && (strcmp(s, "机关") == 0 || strcmp(s, "单位") == 0))
        return "institution";
    return NULL;
}

const char *grid_kind_label(const char *key)
{
    for (int i = 0; key && i < NKINDS; i++)
        if (strcmp(key, kinds[i][0]) == 0)
            return kinds[i][1];
    return "其他";
}

const char *grid_duty_parse(const char *s)
{
    for (int i = 0; s && i < NDUTIES; i++)
        if (strcmp(s, duties[i][0]) == 0 || strcmp(s, duties[i][1]) == 0)
            return duties[i][0];
    return NULL;
}

const char *grid_duty_label(const char *key)
{
    for (int i = 0; key && i < NDUTIES; i++)
        if (strcmp(key, duties[i][0]) == 0)
            return duties[i][1];
    return key ? key : "";
}

/* ---- levels and codes -------------------------------------------------- */

int grid_levels_load(db *d, grid_level *lv)
{
    int n = 0, len = 0;
    db_stmt *s = db_query(d, "SELECT depth, name, label_zh, code_width FROM grid_levels "
                             "ORDER BY depth", "");
    while (s && db_step(s) == DB_ROW && n < GRID_MAX_LEVELS) {
        if (db_col_int(s, 0) != n)
            break; /* levels are contiguous from 0 */
        lv[n].depth = n;
        snprintf(lv[n].name, sizeof lv[n].name, "%s", db_col_text(s, 1));
        snprintf(lv[n].label_zh, sizeof lv[n].label_zh, "%s", db_col_text(s, 2));
        lv[n].code_width = db_col_int(s, 3);
        len += lv[n].code_width;
        lv[n].code_len = len;
        n++;
    }
    db_done(s);
    return n;
}

int grid_code_depth(const grid_level *lv, int n, const char *code)
{
    if (!code)
        return -1;
    size_t len = strlen(code);
    for (size_t i = 0; i < len; i++)
        if (code[i] < '0' || code[i] > '9')
            return -1;
    for (int k = 0; k < n; k++)
        if ((size_t)lv[k].code_len == len)
            return k;
    return -1;
}

int grid_bump_generation(db *d)
{
    int64_t g = ((int64_t)crypto_random_below(0x7fffffff) << 31) | crypto_random_below(0x7fffffff);
    return db_exec(d, "UPDATE grid_meta SET generation = ? WHERE id = 1", "I", g + 2);
}

int grid_levels_get(db *d, json_t **out, werr *e)
{
    grid_level lv[GRID_MAX_LEVELS];
    int n = grid_levels_load(d, lv);
    json_t *items = json_array();
    for (int k = 0; k < n; k++) {
        db_stmt *s = db_query(d, "SELECT count(*) FROM grids WHERE depth = ? AND status = 'active'",
                              "i", k);
        int cnt = s && db_step(s) == DB_ROW ? db_col_int(s, 0) : 0;
        db_done(s);
        json_array_append_new(items, json_pack("{s:i, s:s, s:s, s:i, s:i, s:i}", "depth", k,
                                               "name", lv[k].name, "label_zh", lv[k].label_zh,
                                               "code_width", lv[k].code_width, "code_length",
                                               lv[k].code_len, "grids", cnt));
    }
    (void)e;
    *out = json_pack("{s:o}", "items", items);
    return WOK;
}

struct levels_ctx {
    const audit_actor *a;
    grid_level lv[GRID_MAX_LEVELS];
    int n;
    werr *e;
};

static int levels_tx(db *d, void *arg)
{
    struct levels_ctx *c = arg;
    grid_level old[GRID_MAX_LEVELS];
    int nold = grid_levels_load(d, old);
    db_stmt *s = db_query(d, "SELECT max(depth) FROM grids", "");
    int maxdepth = s && db_step(s) == DB_ROW && !db_col_is_null(s, 0) ? db_col_int(s, 0) : -1;
    db_done(s);
    if (maxdepth >= c->n)
        return werr_set(c->e, W_ECONFLICT, "level_in_use",
                        "levels: grids exist at depth %d; that level cannot be removed", maxdepth);
    for (int k = 0; k <= maxdepth && k < nold; k++)
        if (old[k].code_width != c->lv[k].code_width)
            return werr_set(c->e, W_ECONFLICT, "level_in_use",
                            "levels[%d].code_width: grids exist at this level; its code width "
                            "cannot change", k);
    if (db_exec(d, "DELETE FROM grid_levels", "") != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot write levels");
    json_t *detail = json_array();
    for (int k = 0; k < c->n; k++) {
        if (db_exec(d, "INSERT INTO grid_levels (depth, name, label_zh, code_width) "
                       "VALUES (?, ?, ?, ?)", "itti", k, c->lv[k].name, c->lv[k].label_zh,
                    c->lv[k].code_width) != WOK) {
            json_decref(detail);
            return werr_set(c->e, W_EINTERNAL, "database_error", "cannot write levels");
        }
        json_array_append_new(detail, json_pack("{s:s, s:s, s:i}", "name", c->lv[k].name,
                                                "label_zh", c->lv[k].label_zh, "code_width",
                                                c->lv[k].code_width));
    }
    json_t *dj = json_pack("{s:o}", "levels", detail);
    int rc = audit_record(d, c->a, "grid.levels", "grid_levels", NULL, dj);
    json_decref(dj);
    return rc;
}

int grid_levels_set(store *st, const audit_actor *a, const json_t *levels, werr *e)
{
    struct levels_ctx c = {.a = a, .e = e};
    if (!json_is_array(levels) || json_array_size(levels) < 2 ||
        json_array_size(levels) > GRID_MAX_LEVELS)
        return werr_set(e, W_EINVALID, "invalid_field",
                        "levels: an array of 2 to %d levels, the county first", GRID_MAX_LEVELS);
    size_t i;
    json_t *l;
    int len = 0;
    json_array_foreach(levels, i, l)
    {
        const char *name = NULL, *label = NULL;
        int64_t width = 0;
        char key[32];
        snprintf(key, sizeof key, "levels[%zu]", i);
        if (!json_is_object(l))
            return werr_set(e, W_EINVALID, "invalid_field", "%s: must be an object", key);
        if (jfield_text((json_t *)l, "name", FIELD_REQUIRED, 1, 32, &name, e) != WOK ||
            jfield_text((json_t *)l, "label_zh", FIELD_REQUIRED, 1, 16, &label, e) != WOK ||
            jfield_int((json_t *)l, "code_width", FIELD_REQUIRED, 1, 6, &width, e) != WOK) {
            char msg[sizeof e->message];
            snprintf(msg, sizeof msg, "%s", e->message);
            return werr_set(e, W_EINVALID, "invalid_field", "%s.%s", key, msg);
        }
        json_t *jd = json_object_get(l, "depth");
        if (jd && (!json_is_integer(jd) || json_integer_value(jd) != (json_int_t)i))
            return werr_set(e, W_EINVALID, "invalid_field", "%s.depth: must be %zu (in order)",
                            key, i);
        if (i == 0 && width != 6)
            return werr_set(e, W_EINVALID, "invalid_field",
                            "levels[0].code_width: the county level is the 6-digit "
                            "administrative division code");
        len += (int)width;
        if (len > GRID_CODE_MAX)
            return werr_set(e, W_EINVALID, "invalid_field", "levels: codes would be too long");
        c.lv[i].depth = (int)i;
        snprintf(c.lv[i].name, sizeof c.lv[i].name, "%s", name);
        snprintf(c.lv[i].label_zh, sizeof c.lv[i].label_zh, "%s", label);
        c.lv[i].code_width = (int)width;
        c.lv[i].code_len = len;
    }
    c.n = (int)json_array_size(levels);
    return store_write(st, levels_tx, &c);
}

/* ---- prepared input ---------------------------------------------------- */

void grid_prep_free(grid_prep *p)
{
    free(p->geometry);
    free(p->duties);
    memset(p, 0, sizeof *p);
}

int grid_prep_geometry(const json_t *geometry, grid_prep *p, werr *e)
{
    geo_shape *g = NULL;
    int rc = geo_parse(geometry, &g, e);
    if (rc != WOK)
        return rc;
    json_t *j = geo_to_json(g);
    p->geometry = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(j);
    p->min_lat = g->min_lat, p->min_lng = g->min_lng;
    p->max_lat = g->max_lat, p->max_lng = g->max_lng;
    geo_free(g);
    return p->geometry ? WOK : werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
}

int grid_prep_duties(const json_t *arr, grid_prep *p, werr *e)
{
    p->duties_given = 1;
    if (!arr || json_is_null(arr))
        return WOK;
    if (!json_is_array(arr) || json_array_size(arr) > 50)
        return werr_set(e, W_EINVALID, "invalid_field", "duties: an array of at most 50 entries");
    p->nduties = (int)json_array_size(arr);
    if (p->nduties == 0)
        return WOK;
    p->duties = calloc((size_t)p->nduties, sizeof *p->duties);
    if (!p->duties)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        grid_duty_in *du = &p->duties[i];
        const char *duty = NULL;
        int64_t uid = 0;
        if (!json_is_object(x) ||
            jfield_text(x, "duty", FIELD_REQUIRED, 1, 32, &duty, e) != WOK ||
            jfield_int(x, "user_id", FIELD_OPTIONAL, 1, INT64_MAX, &uid, e) != WOK ||
            jfield_text(x, "name", FIELD_OPTIONAL, 1, 64, &du->name, e) != WOK ||
            jfield_text(x, "phone", FIELD_OPTIONAL, 0, 20, &du->phone, e) != WOK) {
            char msg[sizeof e->message];
            snprintf(msg, sizeof msg, "%s", json_is_object(x) ? e->message : "must be an object");
            return werr_set(e, W_EINVALID, "invalid_field", "duties[%zu]: %s", i, msg);
        }
        du->duty = grid_duty_parse(duty);
        if (!du->duty)
            return werr_set(e, W_EINVALID, "invalid_field",
                            "duties[%zu].duty: one of 网格长 grid_head, 网格员 grid_worker, "
                            "微网格长 micro_head, 楼栋长 building_head, 单元长 unit_head, "
                            "党员中心户 party_household", i);
        du->user_id = uid;
        if (!uid && !du->name)
            return werr_set(e, W_EINVALID, "invalid_field",
                            "duties[%zu]: a user_id or a name is required", i);
        if (du->phone && du->phone[0] && !valid_phone(du->phone))
            return werr_set(e, W_EINVALID, "invalid_field", "duties[%zu].phone: not a phone number",
                            i);
    }
    return WOK;
}

/* Validates the syntactic part of an input (before the transaction). */
static int prep_input(const grid_input *in, int create, grid_prep *p, werr *e)
{
    memset(p, 0, sizeof *p);
    if (in->name || create) {
        if (!in->name || !valid_text(in->name, 1, 64))
            return werr_set(e, W_EINVALID, "invalid_field", "name: 1 to 64 characters");
    }
    if (in->kind) {
        p->kind = grid_kind_parse(in->kind);
        if (!p->kind)
            return werr_set(e, W_EINVALID, "invalid_field",
                            "kind: one of residential 住宅小区, rural 林盘院落, shops 沿街商铺, "
                            "scenic 景区, institution 机关企事业单位, park 园区, other 其他");
    }
    if (in->code && !valid_code(in->code))
        return werr_set(e, W_EINVALID, "invalid_field", "code: digits only");
    if (in->note && !valid_multiline(in->note, 0, 500))
        return werr_set(e, W_EINVALID, "invalid_field", "note: at most 500 characters");
    if (in->geometry && !json_is_null(in->geometry)) {
        int rc = grid_prep_geometry(in->geometry, p, e);
        if (rc != WOK)
            return rc;
        p->geometry_given = 1;
    } else if (in->geometry_given) {
        p->geometry_given = 1; /* cleared */
    }
    if (in->duties)
        return grid_prep_duties(in->duties, p, e);
    return WOK;
}

/* ---- transaction helpers ----------------------------------------------- */

int grid_resolve_dept(db *d, int64_t dept_id, const char *dept_code, int64_t *out, werr *e)
{
    *out = 0;
    if (dept_code && dept_code[0]) {
        db_stmt *s = db_query(d, "SELECT id FROM departments WHERE code = ?", "t", dept_code);
        if (s && db_step(s) == DB_ROW)
            *out = db_col_int64(s, 0);
        db_done(s);
        if (!*out)
            return werr_set(e, W_EINVALID, "invalid_field", "dept_code: no department '%s'",
                            dept_code);
    } else if (dept_id > 0) {
        db_stmt *s = db_query(d, "SELECT id FROM departments WHERE id = ?", "I", dept_id);
        if (s && db_step(s) == DB_ROW)
            *out = dept_id;
        db_done(s);
        if (!*out)
            return werr_set(e, W_EINVALID, "invalid_field", "dept_id: no department %lld",
                            (long long)dept_id);
    }
    return WOK;
}

int grid_write_duties(db *d, int64_t grid_id, const grid_prep *p, werr *e)
{
    if (db_exec(d, "DELETE FROM grid_duties WHERE grid_id = ?", "I", grid_id) != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot write duties");
    for (int i = 0; i < p->nduties; i++) {
        const grid_duty_in *du = &p->duties[i];
        if (du->user_id) {
            db_stmt *s = db_query(d, "SELECT 1 FROM users WHERE id = ?", "I", du->user_id);
            int ok = s && db_step(s) == DB_ROW;
            db_done(s);
            if (!ok)
                return werr_set(e, W_EINVALID, "invalid_field", "duties[%d].user_id: no user %lld",
                                i, (long long)du->user_id);
        }
        int rc = du->user_id
                     ? db_exec(d, "INSERT INTO grid_duties (grid_id, duty, user_id, name, phone, "
                                  "position) VALUES (?, ?, ?, ?, ?, ?)", "ItItti", grid_id,
                               du->duty, du->user_id, du->name, du->phone, i)
                     : db_exec(d, "INSERT INTO grid_duties (grid_id, duty, user_id, name, phone, "
                                  "position) VALUES (?, ?, NULL, ?, ?, ?)", "Ittti", grid_id,
                               du->duty, du->name, du->phone, i);
        if (rc != WOK)
            return werr_set(e, W_EINTERNAL, "database_error", "cannot write duties");
    }
    return WOK;
}

int grid_insert_row(db *d, const grid_row *r, int64_t *id)
{
    char when[32];
    clock_format(clock_now(), when);
    int rc;
    if (r->geometry)
        rc = db_exec(d,
                     "INSERT INTO grids (code, parent_id, depth, name, kind, geometry, min_lat, "
                     "min_lng, max_lat, max_lng, dept_id, replaces, note, households, people, "
                     "created_at, updated_at) VALUES (?, NULLIF(?, 0), ?, ?, ?, ?, ?, ?, ?, ?, "
                     "NULLIF(?, 0), ?, ?, ?, ?, ?, ?)",
                     "tIittt" "dddd" "Ittii" "tt", r->code, r->parent_id, r->depth, r->name,
                     r->kind, r->geometry, r->min_lat, r->min_lng, r->max_lat, r->max_lng,
                     r->dept_id, r->replaces, r->note, r->households, r->people, when, when);
    else
        rc = db_exec(d,
                     "INSERT INTO grids (code, parent_id, depth, name, kind, dept_id, replaces, "
                     "note, households, people, created_at, updated_at) "
                     "VALUES (?, NULLIF(?, 0), ?, ?, ?, NULLIF(?, 0), ?, ?, ?, ?, ?, ?)",
                     "tIitt" "Ittii" "tt", r->code, r->parent_id, r->depth, r->name, r->kind,
                     r->dept_id, r->replaces, r->note, r->households, r->people, when, when);
    if (rc != WOK)
        return rc;
    *id = db_last_id(d);
    return WOK;
}

/* A grid's row fields needed by the writers. */
typedef struct node {
    int64_t id, parent_id, dept_id;
    int depth, households, people;
    char code[64], status[16];
    char *name, *kind, *geometry, *note;
    double bbox[4];
} node;

static void node_free(node *n)
{
    free(n->name);
    free(n->kind);
    free(n->geometry);
    free(n->note);
    memset(n, 0, sizeof *n);
}

static char *dupz(const char *s) { return s ? strdup(s) : NULL; }

static int node_load(db *d, const char *code, int64_t id, node *n)
{
    memset(n, 0, sizeof *n);
    db_stmt *s = code ? db_query(d,
                                 "SELECT id, coalesce(parent_id, 0), coalesce(dept_id, 0), depth, "
                                 "households, people, code, status, name, kind, geometry, note, "
                                 "min_lat, min_lng, max_lat, max_lng FROM grids WHERE code = ?",
                                 "t", code)
                      : db_query(d,
                                 "SELECT id, coalesce(parent_id, 0), coalesce(dept_id, 0), depth, "
                                 "households, people, code, status, name, kind, geometry, note, "
                                 "min_lat, min_lng, max_lat, max_lng FROM grids WHERE id = ?",
                                 "I", id);
    int found = s && db_step(s) == DB_ROW;
    if (found) {
        n->id = db_col_int64(s, 0);
        n->parent_id = db_col_int64(s, 1);
        n->dept_id = db_col_int64(s, 2);
        n->depth = db_col_int(s, 3);
        n->households = db_col_int(s, 4);
        n->people = db_col_int(s, 5);
        snprintf(n->code, sizeof n->code, "%s", db_col_text(s, 6));
        snprintf(n->status, sizeof n->status, "%s", db_col_text(s, 7));
        n->name = dupz(db_col_text(s, 8));
        n->kind = dupz(db_col_text(s, 9));
        n->geometry = dupz(db_col_text(s, 10));
        n->note = dupz(db_col_text(s, 11));
        for (int k = 0; k < 4; k++)
            n->bbox[k] = db_col_double(s, 12 + k);
    }
    db_done(s);
    return found ? WOK : W_ENOTFOUND;
}

static int load_active(db *d, const char *code, node *n, werr *e)
{
    if (node_load(d, code, 0, n) != WOK)
        return werr_set(e, W_ENOTFOUND, "not_found", "no grid %s", code);
    if (strcmp(n->status, "active") != 0) {
        node_free(n);
        return werr_set(e, W_ECONFLICT, "grid_retired", "grid %s is retired", code);
    }
    return WOK;
}

/* The next unused code under a parent (never reusing a retired one). */
static int next_code(db *d, const grid_level *lv, int nlv, int64_t parent_id,
                     const char *parent_code, int depth, const char *prefer, char out[64], werr *e)
{
    if (depth >= nlv)
        return werr_set(e, W_EINVALID, "invalid_field",
                        "parent_code: no level is configured below depth %d", depth - 1);
    int width = lv[depth].code_width;
    if (prefer) {
        snprintf(out, 64, "%s%s", parent_code, prefer);
        db_stmt *s = db_query(d, "SELECT 1 FROM grids WHERE code = ?", "t", out);
        int taken = s && db_step(s) == DB_ROW;
        db_done(s);
        if (!taken)
            return WOK;
    }
    db_stmt *s = db_query(d, "SELECT max(code) FROM grids WHERE parent_id = ?", "I", parent_id);
    long long next = 1;
    if (s && db_step(s) == DB_ROW && !db_col_is_null(s, 0)) {
        const char *m = db_col_text(s, 0);
        next = atoll(m + strlen(m) - (size_t)width) + 1;
    }
    db_done(s);
    long long cap = 1;
    for (int i = 0; i < width; i++)
        cap *= 10;
    if (next >= cap)
        return werr_set(e, W_ECONFLICT, "code_space_full",
                        "no free %d-digit code left under %s", width, parent_code);
    snprintf(out, 64, "%s%0*lld", parent_code, width, next);
    return WOK;
}

static char *json_codes(const char *const *codes, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_string(codes[i]));
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

static int retire_row(db *d, int64_t id, const char *replaced_by, const char *reason)
{
    char when[32];
    clock_format(clock_now(), when);
    return db_exec(d,
                   "UPDATE grids SET status = 'retired', replaced_by = ?, retired_at = ?, "
                   "retire_reason = ?, updated_at = ? WHERE id = ?",
                   "ttttI", replaced_by, when, reason, when, id);
}

/* Ids of the active children of a grid (collected, so callers may recurse). */
static int64_t *active_children(db *d, int64_t id, int *n)
{
    *n = 0;
    int cap = 0;
    int64_t *ids = NULL;
    db_stmt *s = db_query(d, "SELECT id FROM grids WHERE parent_id = ? AND status = 'active' "
                             "ORDER BY code", "I", id);
    while (s && db_step(s) == DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *x = realloc(ids, sizeof *x * (size_t)cap);
            if (!x)
                break;
            ids = x;
        }
        ids[(*n)++] = db_col_int64(s, 0);
    }
    db_done(s);
    return ids;
}

static int copy_duties(db *d, int64_t from, int64_t to)
{
    return db_exec(d, "INSERT INTO grid_duties (grid_id, duty, user_id, name, phone, position) "
                      "SELECT ?, duty, user_id, name, phone, position FROM grid_duties "
                      "WHERE grid_id = ?", "II", to, from);
}

struct move_log {
    json_t *moved; /* [{from, to}] */
    const audit_actor *a;
    const char *reason;
};

/* Moves the active grid `id` (and its active subtree) under a new parent:
 * a copy with a new code is created there (keeping its own code segment
 * when free), the old grid is retired with replaced_by = the copy. */
static int move_subtree(db *d, const grid_level *lv, int nlv, int64_t id, int64_t new_parent,
                        const char *new_parent_code, struct move_log *ml, werr *e)
{
    node n;
    if (node_load(d, NULL, id, &n) != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "grid %lld vanished", (long long)id);
    char code[64];
    const char *seg = n.code + strlen(n.code) - (size_t)lv[n.depth].code_width;
    int rc = next_code(d, lv, nlv, new_parent, new_parent_code, n.depth, seg, code, e);
    if (rc != WOK) {
        node_free(&n);
        return rc;
    }
    const char *old = n.code;
    char *replaces = json_codes(&old, 1);
    grid_row r = {code, new_parent, n.depth, n.name, n.kind, n.geometry,
                  n.bbox[0], n.bbox[1], n.bbox[2], n.bbox[3], n.dept_id, replaces, n.note,
                  n.households, n.people};
    int64_t nid = 0;
    rc = grid_insert_row(d, &r, &nid);
    free(replaces);
    const char *nc = code;
    char *rb = json_codes(&nc, 1);
    if (rc == WOK)
        rc = copy_duties(d, n.id, nid);
    if (rc == WOK)
        rc = retire_row(d, n.id, rb, ml->reason);
    free(rb);
    if (rc != WOK) {
        node_free(&n);
        return werr_set(e, W_EINTERNAL, "database_error", "cannot move grid %s", old);
    }
    json_array_append_new(ml->moved, json_pack("{s:s, s:s}", "from", n.code, "to", code));
    node_free(&n);
    int nk = 0;
    int64_t *kids = active_children(d, id, &nk);
    for (int i = 0; rc == WOK && i < nk; i++)
        rc = move_subtree(d, lv, nlv, kids[i], nid, code, ml, e);
    free(kids);
    return rc;
}

/* ---- create ------------------------------------------------------------ */

struct create_ctx {
    const audit_actor *a;
    const grid_input *in;
    grid_prep p;
    char code[64];
    werr *e;
};

/* Checks and inserts one new grid (shared by create, split and merge). */
static int create_in_tx(db *d, const audit_actor *a, const grid_input *in, const grid_prep *p,
                        const char *replaces, char code_out[64], int64_t *id_out, werr *e)
{
    grid_level lv[GRID_MAX_LEVELS];
    int nlv = grid_levels_load(d, lv);
    if (nlv == 0)
        return werr_set(e, W_ECONFLICT, "no_levels",
                        "configure the grid levels first (PUT /api/v1/grid-levels)");
    int64_t parent_id = 0;
    int depth;
    char code[64];
    node parent = {0};
    if (in->code) {
        depth = grid_code_depth(lv, nlv, in->code);
        if (depth < 0)
            return werr_set(e, W_EINVALID, "invalid_field",
                            "code: '%s' does not fit the levels (digits; lengths %d, %d, ...)",
                            in->code, lv[0].code_len, nlv > 1 ? lv[1].code_len : 0);
        snprintf(code, sizeof code, "%s", in->code);
        if (depth > 0) {
            char pc[64];
            snprintf(pc, sizeof pc, "%.*s", lv[depth - 1].code_len, in->code);
            if (in->parent_code && strcmp(in->parent_code, pc) != 0)
                return werr_set(e, W_EINVALID, "invalid_field",
                                "parent_code: %s is not the parent of %s (expected %s)",
                                in->parent_code, in->code, pc);
            int rc = load_active(d, pc, &parent, e);
            if (rc == W_ENOTFOUND)
                return werr_set(e, W_EINVALID, "invalid_field", "parent_code: no grid %s", pc);
            if (rc != WOK)
                return rc;
            parent_id = parent.id;
        } else if (in->parent_code) {
            return werr_set(e, W_EINVALID, "invalid_field",
                            "parent_code: the county (depth 0) has no parent");
        }
    } else {
        if (!in->parent_code)
            return werr_set(e, W_EINVALID, "invalid_field",
                            "code: required for the county; or give parent_code");
        int rc = load_active(d, in->parent_code, &parent, e);
        if (rc == W_ENOTFOUND)
            return werr_set(e, W_EINVALID, "invalid_field", "parent_code: no grid %s",
                            in->parent_code);
        if (rc != WOK)
            return rc;
        parent_id = parent.id;
        depth = parent.depth + 1;
        rc = next_code(d, lv, nlv, parent.id, parent.code, depth, NULL, code, e);
        if (rc != WOK) {
            node_free(&parent);
            return rc;
        }
    }
    int64_t dept = 0;
    int rc = grid_resolve_dept(d, in->dept_id, in->dept_code, &dept, e);
    if (rc == WOK && !dept && !in->dept_id && !in->dept_code && parent_id)
        dept = 0; /* 包保单位 is per grid; not inherited silently */
    node_free(&parent);
    if (rc != WOK)
        return rc;
    grid_row r = {code, parent_id, depth, in->name, p->kind ? p->kind : "other", p->geometry,
                  p->min_lat, p->min_lng, p->max_lat, p->max_lng, dept, replaces, in->note, 0, 0};
    int64_t id = 0;
    rc = grid_insert_row(d, &r, &id);
    if (rc == W_ECONFLICT)
        return werr_set(e, W_ECONFLICT, "code_taken", "grid code %s already exists", code);
    if (rc != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot create grid");
    if (p->nduties && (rc = grid_write_duties(d, id, p, e)) != WOK)
        return rc;
    json_t *detail = json_pack("{s:s, s:s, s:s, s:i, s:b, s:s*}", "code", code, "name", in->name,
                               "kind", r.kind, "depth", depth, "geometry", p->geometry != NULL,
                               "replaces", replaces);
    rc = audit_record(d, a, "grid.create", "grid", code, detail);
    json_decref(detail);
    if (rc != WOK)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot audit");
    if (code_out)
        snprintf(code_out, 64, "%s", code);
    if (id_out)
        *id_out = id;
    return WOK;
}

static int create_tx(db *d, void *arg)
{
    struct create_ctx *c = arg;
    int rc = create_in_tx(d, c->a, c->in, &c->p, NULL, c->code, NULL, c->e);
    return rc == WOK ? grid_bump_generation(d) : rc;
}

static int finish_write(store *st, int rc, werr *e)
{
    if (rc == WOK)
        locate_invalidate(st);
    else if (e && e->rc != rc)
        werr_set(e, rc, "database_error", "cannot write grids");
    return rc;
}

int grid_create(store *st, const audit_actor *a, const grid_input *in, char code_out[64], werr *e)
{
    struct create_ctx c = {.a = a, .in = in, .e = e};
    int rc = prep_input(in, 1, &c.p, e);
    if (rc == WOK)
        rc = finish_write(st, store_write(st, create_tx, &c), e);
    if (rc == WOK && code_out)
        snprintf(code_out, 64, "%s", c.code);
    grid_prep_free(&c.p);
    return rc;
}

/* ---- update ------------------------------------------------------------ */

struct update_ctx {
    const audit_actor *a;
    const char *code;
    const grid_input *in;
    grid_prep p;
    werr *e;
};

static int update_tx(db *d, void *arg)
{
    struct update_ctx *c = arg;
    node n;
    int rc = load_active(d, c->code, &n, c->e);
    if (rc != WOK)
        return rc;
    char when[32];
    clock_format(clock_now(), when);
    json_t *detail = json_object();
    if (c->in->name) {
        db_exec(d, "UPDATE grids SET name = ? WHERE id = ?", "tI", c->in->name, n.id);
        json_object_set_new(detail, "name", json_pack("[s,s]", n.name, c->in->name));
    }
    if (c->p.kind) {
        db_exec(d, "UPDATE grids SET kind = ? WHERE id = ?", "tI", c->p.kind, n.id);
        json_object_set_new(detail, "kind", json_pack("[s,s]", n.kind, c->p.kind));
    }
    if (c->in->note) {
        db_exec(d, "UPDATE grids SET note = ? WHERE id = ?", "tI", c->in->note, n.id);
        json_object_set_new(detail, "note", json_string(c->in->note));
    }
    if (c->p.geometry_given) {
        if (c->p.geometry)
            db_exec(d, "UPDATE grids SET geometry = ?, min_lat = ?, min_lng = ?, max_lat = ?, "
                       "max_lng = ? WHERE id = ?", "tddddI", c->p.geometry, c->p.min_lat,
                    c->p.min_lng, c->p.max_lat, c->p.max_lng, n.id);
        else
            db_exec(d, "UPDATE grids SET geometry = NULL, min_lat = NULL, min_lng = NULL, "
                       "max_lat = NULL, max_lng = NULL WHERE id = ?", "I", n.id);
        json_object_set_new(detail, "geometry", json_string(c->p.geometry ? "set" : "cleared"));
    }
    if (c->in->dept_clear || c->in->dept_id || c->in->dept_code) {
        int64_t dept = 0;
        if (!c->in->dept_clear &&
            (rc = grid_resolve_dept(d, c->in->dept_id, c->in->dept_code, &dept, c->e)) != WOK)
            goto out;
        if (dept)
            db_exec(d, "UPDATE grids SET dept_id = ? WHERE id = ?", "II", dept, n.id);
        else
            db_exec(d, "UPDATE grids SET dept_id = NULL WHERE id = ?", "I", n.id);
        json_object_set_new(detail, "dept_id", dept ? json_integer(dept) : json_null());
    }
    if (c->p.duties_given) {
        if ((rc = grid_write_duties(d, n.id, &c->p, c->e)) != WOK)
            goto out;
        json_object_set_new(detail, "duties", json_integer(c->p.nduties));
    }
    if (json_object_size(detail) == 0) {
        rc = werr_set(c->e, W_EINVALID, "invalid_field", "nothing to change");
        goto out;
    }
    db_exec(d, "UPDATE grids SET updated_at = ? WHERE id = ?", "tI", when, n.id);
    rc = audit_record(d, c->a, "grid.update", "grid", n.code, detail);
    if (rc == WOK)
        rc = grid_bump_generation(d);
out:
    json_decref(detail);
    node_free(&n);
    return rc;
}

int grid_update(store *st, const audit_actor *a, const char *code, const grid_input *in, werr *e)
{
    struct update_ctx c = {.a = a, .code = code, .in = in, .e = e};
    int rc = prep_input(in, 0, &c.p, e);
    if (rc == WOK)
        rc = finish_write(st, store_write(st, update_tx, &c), e);
    grid_prep_free(&c.p);
    return rc;
}

/* ---- retire ------------------------------------------------------------ */

struct retire_ctx {
    const audit_actor *a;
    const char *code, *reason;
    char *replaced_by;
    int cascade;
    int count;
    werr *e;
};

static int retire_subtree(db *d, int64_t id, const char *replaced_by, const char *reason, int *count)
{
    int nk = 0, rc = WOK;
    int64_t *kids = active_children(d, id, &nk);
    for (int i = 0; rc == WOK && i < nk; i++)
        rc = retire_subtree(d, kids[i], NULL, reason, count);
    free(kids);
    if (rc == WOK)
        rc = retire_row(d, id, replaced_by, reason);
    (*count)++;
    return rc;
}

static int retire_tx(db *d, void *arg)
{
    struct retire_ctx *c = arg;
    /* a write fn may run twice (store.h): start from a clean slate */
    c->count = 0;
    node n;
    int rc = load_active(d, c->code, &n, c->e);
    if (rc != WOK)
        return rc;
    int nk = 0;
    int64_t *kids = active_children(d, n.id, &nk);
    free(kids);
    if (nk && !c->cascade) {
        node_free(&n);
        return werr_set(c->e, W_ECONFLICT, "has_active_children",
                        "grid %s has %d active children: retire, split or merge them first, or "
                        "pass cascade", c->code, nk);
    }
    rc = retire_subtree(d, n.id, c->replaced_by, c->reason, &c->count);
    if (rc == WOK) {
        json_t *detail = json_pack("{s:s*, s:i, s:s*}", "reason", c->reason, "retired", c->count,
                                   "replaced_by", c->replaced_by);
        rc = audit_record(d, c->a, "grid.retire", "grid", n.code, detail);
        json_decref(detail);
    }
    node_free(&n);
    return rc == WOK ? grid_bump_generation(d) : rc;
}

static int codes_array_ok(const json_t *arr, int min, int max, const char *field, werr *e)
{
    if (!json_is_array(arr) || (int)json_array_size(arr) < min || (int)json_array_size(arr) > max)
        return werr_set(e, W_EINVALID, "invalid_field", "%s: an array of %d to %d grid codes",
                        field, min, max);
    size_t i;
    json_t *x;
    json_array_foreach(arr, i, x)
    {
        if (!json_is_string(x) || !valid_code(json_string_value(x)))
            return werr_set(e, W_EINVALID, "invalid_field", "%s[%zu]: not a grid code", field, i);
    }
    return WOK;
}

int grid_retire(store *st, const audit_actor *a, const char *code, const char *reason,
                const json_t *replaced_by, int cascade, werr *e)
{
    if (reason && !valid_multiline(reason, 0, 500))
        return werr_set(e, W_EINVALID, "invalid_field", "reason: at most 500 characters");
    struct retire_ctx c = {a, code, reason, NULL, cascade, 0, e};
    if (replaced_by && !json_is_null(replaced_by)) {
        if (codes_array_ok(replaced_by, 1, 100, "replaced_by", e) != WOK)
            return W_EINVALID;
        c.replaced_by = json_dumps(replaced_by, JSON_COMPACT);
    }
    int rc = finish_write(st, store_write(st, retire_tx, &c), e);
    free(c.replaced_by);
    return rc;
}

/* ---- split ------------------------------------------------------------- */

struct part {
    grid_input in;
    grid_prep p;
    const json_t *children;
    char code[64];
    int64_t id;
};

struct split_ctx {
    const audit_actor *a;
    const char *code, *reason;
    struct part *parts;
    int nparts;
    json_t *result;
    werr *e;
};

static int split_tx(db *d, void *arg)
{
    struct split_ctx *c = arg;
    /* a write fn may run twice (store.h): start from a clean slate */
    json_decref(c->result);
    c->result = NULL;
    grid_level lv[GRID_MAX_LEVELS];
    int nlv = grid_levels_load(d, lv);
    node n;
    int rc = load_active(d, c->code, &n, c->e);
    if (rc != WOK)
        return rc;
    if (n.depth == 0) {
        node_free(&n);
        return werr_set(c->e, W_EINVALID, "invalid_field", "the county cannot be split");
    }
    node parent;
    node_load(d, NULL, n.parent_id, &parent);
    /* every active child assigned to exactly one part */
    int nk = 0;
    int64_t *kids = active_children(d, n.id, &nk);
    int *owner = calloc((size_t)nk + 1, sizeof(int));
    char **kid_codes = calloc((size_t)nk + 1, sizeof(char *));
    for (int k = 0; k < nk; k++) {
        node kn;
        node_load(d, NULL, kids[k], &kn);
        kid_codes[k] = strdup(kn.code);
        owner[k] = -1;
        node_free(&kn);
    }
    for (int p = 0; rc == WOK && p < c->nparts; p++) {
        size_t i;
        json_t *x;
        json_array_foreach(c->parts[p].children, i, x)
        {
            const char *cc = json_string_value(x);
            int k = 0;
            while (k < nk && strcmp(kid_codes[k], cc) != 0)
                k++;
            if (k == nk) {
                rc = werr_set(c->e, W_EINVALID, "invalid_field",
                              "parts[%d].children: %s is not an active child of %s", p, cc,
                              c->code);
                break;
            }
            if (owner[k] >= 0) {
                rc = werr_set(c->e, W_EINVALID, "invalid_field",
                              "parts[%d].children: %s is already given to parts[%d]", p, cc,
                              owner[k]);
                break;
            }
            owner[k] = p;
        }
    }
    for (int k = 0; rc == WOK && k < nk; k++)
        if (owner[k] < 0)
            rc = werr_set(c->e, W_EINVALID, "invalid_field",
                          "parts: the active child %s is not given to any part", kid_codes[k]);
    const char *old = n.code;
    char *replaces = json_codes(&old, 1);
    json_t *created = json_array();
    for (int p = 0; rc == WOK && p < c->nparts; p++) {
        struct part *pt = &c->parts[p];
        pt->in.parent_code = parent.code;
        if (!pt->in.dept_id && !pt->in.dept_code)
            pt->in.dept_id = n.dept_id; /* the 包保单位 stays unless the part names another */
        if (!pt->p.kind)
            pt->p.kind = n.kind;
        rc = create_in_tx(d, c->a, &pt->in, &pt->p, replaces, pt->code, &pt->id, c->e);
        if (rc == WOK)
            json_array_append_new(created, json_string(pt->code));
    }
    struct move_log ml = {json_array(), c->a, c->reason};
    for (int k = 0; rc == WOK && k < nk; k++)
        rc = move_subtree(d, lv, nlv, kids[k], c->parts[owner[k]].id, c->parts[owner[k]].code, &ml,
                          c->e);
    if (rc == WOK) {
        char *rb = json_dumps(created, JSON_COMPACT);
        rc = retire_row(d, n.id, rb, c->reason);
        free(rb);
    }
    if (rc == WOK) {
        c->result = json_pack("{s:[s], s:O, s:O}", "retired", n.code, "created", created, "moved",
                              ml.moved);
        json_t *detail = json_pack("{s:O, s:O, s:s*}", "created", created, "moved", ml.moved,
                                   "reason", c->reason);
        rc = audit_record(d, c->a, "grid.split", "grid", n.code, detail);
        json_decref(detail);
    }
    json_decref(ml.moved);
    json_decref(created);
    free(replaces);
    for (int k = 0; k < nk; k++)
        free(kid_codes[k]);
    free(kid_codes);
    free(owner);
    free(kids);
    node_free(&parent);
    node_free(&n);
    return rc == WOK ? grid_bump_generation(d) : rc;
}

static int part_from_json(json_t *x, struct part *pt, int idx, werr *e)
{
    memset(pt, 0, sizeof *pt);
    int64_t dept = 0;
    if (!json_is_object(x))
        return werr_set(e, W_EINVALID, "invalid_field", "parts[%d]: must be an object", idx);
    int rc = WOK;
    if (jfield_text(x, "code", FIELD_OPTIONAL, 1, 63, &pt->in.code, e) != WOK ||
        jfield_text(x, "name", FIELD_REQUIRED, 1, 64, &pt->in.name, e) != WOK ||
        jfield_text(x, "kind", FIELD_OPTIONAL, 1, 32, &pt->in.kind, e) != WOK ||
        jfield_int(x, "dept_id", FIELD_OPTIONAL, 1, INT64_MAX, &dept, e) != WOK ||
        jfield_text(x, "dept_code", FIELD_OPTIONAL, 1, 32, &pt->in.dept_code, e) != WOK ||
        jfield_multiline(x, "note", FIELD_OPTIONAL, 0, 500, &pt->in.note, e) != WOK)
        rc = W_EINVALID;
    pt->in.dept_id = dept;
    pt->in.geometry = json_object_get(x, "geometry");
    pt->in.duties = json_object_get(x, "duties");
    pt->children = json_object_get(x, "children");
    if (rc == WOK && pt->children && codes_array_ok(pt->children, 0, 100000, "children", e) != WOK)
        rc = W_EINVALID;
    if (rc == WOK)
        rc = prep_input(&pt->in, 1, &pt->p, e);
    if (rc != WOK) {
        char msg[sizeof e->message];
        snprintf(msg, sizeof msg, "%s", e->message);
        werr_set(e, rc, rc == W_EINVALID ? "invalid_field" : e->code, "parts[%d].%s", idx, msg);
    }
    if (!pt->children)
        pt->children = json_array(); /* borrowed otherwise; see free below */
    else
        json_incref((json_t *)pt->children);
    return rc;
}

int grid_split(store *st, const audit_actor *a, const char *code, const json_t *parts,
               const char *reason, json_t **result, werr *e)
{
    *result = NULL;
    if (!json_is_array(parts) || json_array_size(parts) < 2 || json_array_size(parts) > 100)
        return werr_set(e, W_EINVALID, "invalid_field", "parts: an array of 2 to 100 new grids");
    if (reason && !valid_multiline(reason, 0, 500))
        return werr_set(e, W_EINVALID, "invalid_field", "reason: at most 500 characters");
    struct split_ctx c = {a, code, reason, NULL, (int)json_array_size(parts), NULL, e};
    c.parts = calloc((size_t)c.nparts, sizeof *c.parts);
    if (!c.parts)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    int rc = WOK, made = 0;
    for (int i = 0; i < c.nparts && rc == WOK; i++, made++)
        rc = part_from_json(json_array_get(parts, (size_t)i), &c.parts[i], i, e);
    if (rc == WOK)
        rc = finish_write(st, store_write(st, split_tx, &c), e);
    for (int i = 0; i < made; i++) {
        grid_prep_free(&c.parts[i].p);
        json_decref((json_t *)c.parts[i].children);
    }
    free(c.parts);
    if (rc == WOK)
        *result = c.result;
    else
        json_decref(c.result);
    return rc;
}

/* ---- merge ------------------------------------------------------------- */

struct merge_ctx {
    const audit_actor *a;
    const char *code, *reason;
    const json_t *others;
    const grid_input *into;
    grid_prep p;
    json_t *result;
    werr *e;
};

/* The union of the sources' polygons as one MultiPolygon (exact: no
 * geometry is computed, the polygons are listed side by side). */
static char *union_geometry(node *src, int n, double bbox[4])
{
    json_t *mp = json_array();
    int any = 0;
    for (int i = 0; i < n; i++) {
        if (!src[i].geometry)
            continue;
        json_t *g = json_loads(src[i].geometry, 0, NULL);
        const char *t = json_string_value(json_object_get(g, "type"));
        json_t *co = json_object_get(g, "coordinates");
        if (t && strcmp(t, "Polygon") == 0)
            json_array_append(mp, co);
        else if (t && strcmp(t, "MultiPolygon") == 0)
            json_array_extend(mp, co);
        if (t) {
            if (!any || src[i].bbox[0] < bbox[0]) bbox[0] = src[i].bbox[0];
            if (!any || src[i].bbox[1] < bbox[1]) bbox[1] = src[i].bbox[1];
            if (!any || src[i].bbox[2] > bbox[2]) bbox[2] = src[i].bbox[2];
            if (!any || src[i].bbox[3] > bbox[3]) bbox[3] = src[i].bbox[3];
            any = 1;
        }
        json_decref(g);
    }
    char *s = NULL;
    if (any) {
        json_t *g = json_pack("{s:s, s:o}", "type", "MultiPolygon", "coordinates", mp);
        s = json_dumps(g, JSON_COMPACT | JSON_REAL_PRECISION(15));
        json_decref(g);
    } else {
        json_decref(mp);
    }
    return s;
}

static int merge_tx(db *d, void *arg)
{
    struct merge_ctx *c = arg;
    /* a write fn may run twice (store.h): start from a clean slate */
    json_decref(c->result);
    c->result = NULL;
    grid_level lv[GRID_MAX_LEVELS];
    int nlv = grid_levels_load(d, lv);
    int n = 1 + (int)json_array_size(c->others);
    node *src = calloc((size_t)n, sizeof *src);
    if (!src)
        return werr_set(c->e, W_EINTERNAL, "out_of_memory", "out of memory");
    int rc = WOK, loaded = 0;
    for (int i = 0; i < n && rc == WOK; i++) {
        const char *cc = i == 0 ? c->code : json_string_value(json_array_get(c->others, (size_t)i - 1));
        for (int j = 0; j < i; j++)
            if (strcmp(src[j].code, cc) == 0)
                rc = werr_set(c->e, W_EINVALID, "invalid_field", "with: %s is listed twice", cc);
        if (rc == WOK && (rc = load_active(d, cc, &src[i], c->e)) == WOK) {
            loaded++;
            if (src[i].depth == 0)
                rc = werr_set(c->e, W_EINVALID, "invalid_field", "the county cannot be merged");
            else if (src[i].parent_id != src[0].parent_id)
                rc = werr_set(c->e, W_EINVALID, "invalid_field",
                              "with: %s is not a sibling of %s (same parent required)", cc,
                              c->code);
        }
    }
    node parent = {0};
    const char **codes = calloc((size_t)n, sizeof *codes);
    json_t *moved = json_array();
    char newcode[64] = "";
    int64_t newid = 0;
    if (rc == WOK) {
        node_load(d, NULL, src[0].parent_id, &parent);
        for (int i = 0; i < n; i++)
            codes[i] = src[i].code;
        char *replaces = json_codes(codes, n);
        grid_input in = *c->into;
        grid_prep p = c->p;
        char *geom = NULL;
        if (!p.geometry_given) {
            double bb[4] = {0, 0, 0, 0};
            geom = union_geometry(src, n, bb);
            p.geometry = geom;
            p.min_lat = bb[0], p.min_lng = bb[1], p.max_lat = bb[2], p.max_lng = bb[3];
        }
        if (!p.kind)
            p.kind = src[0].kind;
        if (!in.name)
            in.name = src[0].name;
        if (!in.dept_id && !in.dept_code)
            in.dept_id = src[0].dept_id;
        in.parent_code = parent.code;
        rc = create_in_tx(d, c->a, &in, &p, replaces, newcode, &newid, c->e);
        free(geom);
        free(replaces);
    }
    struct move_log ml = {moved, c->a, c->reason};
    for (int i = 0; rc == WOK && i < n; i++) {
        int nk = 0;
        int64_t *kids = active_children(d, src[i].id, &nk);
        for (int k = 0; rc == WOK && k < nk; k++)
            rc = move_subtree(d, lv, nlv, kids[k], newid, newcode, &ml, c->e);
        free(kids);
        if (rc == WOK) {
            const char *nc = newcode;
            char *rb = json_codes(&nc, 1);
            rc = retire_row(d, src[i].id, rb, c->reason);
            free(rb);
        }
    }
    if (rc == WOK) {
        json_t *retired = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(retired, json_string(codes[i]));
        c->result = json_pack("{s:o, s:[s], s:O}", "retired", retired, "created", newcode, "moved",
                              moved);
        json_t *detail = json_pack("{s:O, s:s, s:O, s:s*}", "retired",
                                   json_object_get(c->result, "retired"), "created", newcode,
                                   "moved", moved, "reason", c->reason);
        rc = audit_record(d, c->a, "grid.merge", "grid", newcode, detail);
        json_decref(detail);
    }
    json_decref(moved);
    free(codes);
    node_free(&parent);
    (void)loaded;
    for (int i = 0; i < n; i++)
        node_free(&src[i]);
    free(src);
    return rc == WOK ? grid_bump_generation(d) : rc;
}

int grid_merge(store *st, const audit_actor *a, const char *code, const json_t *others,
               const grid_input *into, const char *reason, json_t **result, werr *e)
{
    *result = NULL;
    if (codes_array_ok(others, 1, 100, "with", e) != WOK)
        return W_EINVALID;
    if (reason && !valid_multiline(reason, 0, 500))
        return werr_set(e, W_EINVALID, "invalid_field", "reason: at most 500 characters");
    struct merge_ctx c = {.a = a, .code = code, .reason = reason, .others = others, .into = into,
                          .e = e};
    grid_input in = *into;
    int rc = prep_input(&in, 0, &c.p, e);
    if (rc == WOK)
        rc = finish_write(st, store_write(st, merge_tx, &c), e);
    grid_prep_free(&c.p);
    if (rc == WOK)
        *result = c.result;
    else
        json_decref(c.result);
    return rc;
}

/* ---- reads ------------------------------------------------------------- */

int grid_visible(const principal *who, const char *code)
{
    if (!who || who->scope_kind == SCOPE_ALL || who->scope_kind == SCOPE_DEPT)
        return 1;
    if (who->scope_kind != SCOPE_GRID || !who->scope_grid[0] || !code)
        return 0;
    return strncmp(code, who->scope_grid, strlen(who->scope_grid)) == 0;
}

/* The code range [lo, hi) of the caller's scope: 0 = everything, 1 = a
 * range, -1 = nothing. Codes are digits, so prefix P covers [P, P":"). */
int grid_scope_range(const principal *who, char lo[64], char hi[66])
{
    lo[0] = hi[0] = '\0';
    if (!who || who->scope_kind == SCOPE_ALL || who->scope_kind == SCOPE_DEPT)
        return 0;
    if (who->scope_kind != SCOPE_GRID || !who->scope_grid[0])
        return -1;
    snprintf(lo, 64, "%s", who->scope_grid);
    snprintf(hi, 66, "%s:", who->scope_grid);
    return 1;
}

json_t *grid_duties_json(db *d, int64_t grid_id)
{
    json_t *a = json_array();
    db_stmt *s = db_query(d,
                          "SELECT gd.duty, gd.user_id, coalesce(u.name, gd.name), "
                          "coalesce(gd.phone, u.phone) FROM grid_duties gd "
                          "LEFT JOIN users u ON u.id = gd.user_id WHERE gd.grid_id = ? "
                          "ORDER BY gd.position, gd.id", "I", grid_id);
    while (s && db_step(s) == DB_ROW) {
        const char *duty = db_col_text(s, 0);
        json_t *x = json_pack("{s:s, s:s, s:s*, s:s*}", "duty", duty, "duty_label",
                              grid_duty_label(duty), "name", db_col_text(s, 2), "phone",
                              db_col_text(s, 3));
        if (!db_col_is_null(s, 1))
            json_object_set_new(x, "user_id", json_integer(db_col_int64(s, 1)));
        json_array_append_new(a, x);
    }
    db_done(s);
    return a;
}

json_t *grid_path(db *d, const char *code)
{
    grid_level lv[GRID_MAX_LEVELS];
    int nlv = grid_levels_load(d, lv);
    int depth = grid_code_depth(lv, nlv, code);
    json_t *a = json_array();
    for (int k = 0; k <= depth; k++) {
        char c[64];
        snprintf(c, sizeof c, "%.*s", lv[k].code_len, code);
        db_stmt *s = db_query(d, "SELECT name FROM grids WHERE code = ?", "t", c);
        if (s && db_step(s) == DB_ROW)
            json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:s}", "code", c, "name",
                                               db_col_text(s, 0), "depth", k, "level",
                                               lv[k].label_zh));
        db_done(s);
    }
    return a;
}

#define GRID_COLS                                                                                  \
    "g.id, g.code, g.name, g.kind, g.depth, p.code, g.status, g.replaced_by, g.replaces, "         \
    "g.retired_at, g.retire_reason, g.households, g.people, g.dept_id, d.code, d.name, "          \
    "g.geometry IS NOT NULL, g.note, g.created_at, g.updated_at, "                               \
    "(SELECT count(*) FROM grids c WHERE c.parent_id = g.id AND c.status = 'active'), "           \
    "g.min_lat, g.min_lng, g.max_lat, g.max_lng "                                                \
    "FROM grids g LEFT JOIN grids p ON p.id = g.parent_id "                                      \
    "LEFT JOIN departments d ON d.id = g.dept_id "

static json_t *codes_json(const char *text)
{
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    return j ? j : json_array();
}

static json_t *grid_row_json(db_stmt *s, const grid_level *lv, int nlv)
{
    int depth = db_col_int(s, 4);
    const char *kind = db_col_text(s, 3);
    json_t *g = json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:s*, s:s, s:o, s:o, s:s*, s:s*, s:i, "
                          "s:i, s:b, s:s*, s:s, s:s, s:i}",
                          "id", (json_int_t)db_col_int64(s, 0), "code", db_col_text(s, 1), "name",
                          db_col_text(s, 2), "kind", kind, "kind_label", grid_kind_label(kind),
                          "depth", depth, "parent_code", db_col_text(s, 5), "status",
                          db_col_text(s, 6), "replaced_by", codes_json(db_col_text(s, 7)),
                          "replaces", codes_json(db_col_text(s, 8)), "retired_at",
                          db_col_text(s, 9), "retire_reason", db_col_text(s, 10), "households",
                          db_col_int(s, 11), "people", db_col_int(s, 12), "has_geometry",
                          db_col_int(s, 16), "note", db_col_text(s, 17), "created_at",
                          db_col_text(s, 18), "updated_at", db_col_text(s, 19), "children",
                          db_col_int(s, 20));
    if (depth < nlv)
        json_object_set_new(g, "level", json_pack("{s:s, s:s}", "name", lv[depth].name,
                                                  "label_zh", lv[depth].label_zh));
    if (!db_col_is_null(s, 13))
        json_object_set_new(g, "dept", json_pack("{s:I, s:s, s:s}", "id",
                                                 (json_int_t)db_col_int64(s, 13), "code",
                                                 db_col_text(s, 14), "name", db_col_text(s, 15)));
    else
        json_object_set_new(g, "dept", json_null());
    if (!db_col_is_null(s, 21))
        json_object_set_new(g, "bbox", json_pack("[f,f,f,f]", db_col_double(s, 22),
                                                 db_col_double(s, 21), db_col_double(s, 24),
                                                 db_col_double(s, 23)));
    return g;
}

int grid_get(db *d, const principal *who, const char *code, int with_geometry, json_t **out,
             werr *e)
{
    if (!valid_code(code) || !grid_visible(who, code))
        return werr_set(e, W_ENOTFOUND, "not_found", "no grid %s", code);
    grid_level lv[GRID_MAX_LEVELS];
    int nlv = grid_levels_load(d, lv);
    db_stmt *s = db_query(d, "SELECT " GRID_COLS "WHERE g.code = ?", "t", code);
    if (!s || db_step(s) != DB_ROW) {
        db_done(s);
        return werr_set(e, W_ENOTFOUND, "not_found", "no grid %s", code);
    }
    json_t *g = grid_row_json(s, lv, nlv);
    int64_t id = db_col_int64(s, 0);
    db_done(s);
    json_object_set_new(g, "duties", grid_duties_json(d, id));
    json_object_set_new(g, "path", grid_path(d, code));
    if (with_geometry) {
        s = db_query(d, "SELECT geometry FROM grids WHERE id = ?", "I", id);
        json_t *geom = NULL;
        if (s && db_step(s) == DB_ROW && db_col_text(s, 0))
            geom = json_loads(db_col_text(s, 0), 0, NULL);
        db_done(s);
        json_object_set_new(g, "geometry", geom ? geom : json_null());
    }
    *out = g;
    return WOK;
}

int grid_list(db *d, const principal *who, const grid_list_query *q, json_t **out, werr *e)
{
    grid_level lv[GRID_MAX_LEVELS];
    int nlv = grid_levels_load(d, lv);
    char lo[64], hi[66];
    int scoped = grid_scope_range(who, lo, hi);
    json_t *items = json_array();
    int limit = q->limit > 0 ? (q->limit > 20000 ? 20000 : q->limit) : 1000;
    const char *status = q->status ? q->status : "active";
    char like[200] = "";
    if (q->q) {
        size_t k = 0;
        like[k++] = '%';
        for (const char *p = q->q; *p && k < sizeof like - 3; p++) {
            if (*p == '%' || *p == '_' || *p == '\\')
                like[k++] = '\\';
            like[k++] = *p;
        }
        like[k++] = '%';
        like[k] = '\0';
    }
    if (scoped < 0) {
        *out = json_pack("{s:o, s:b}", "items", items, "truncated", 0);
        return WOK;
    }
    db_stmt *s;
    const char *parent = q->parent;
    if (parent && !valid_code(parent)) {
        json_decref(items);
        return werr_set(e, W_EINVALID, "invalid_query", "parent: not a grid code");
    }
    if (q->tree || q->q) {
        char plo[64] = "", phi[66] = "";
        if (parent) {
            snprintf(plo, sizeof plo, "%s", parent);
            snprintf(phi, sizeof phi, "%s:", parent);
        }
        s = db_query(d,
                     "SELECT " GRID_COLS "WHERE (? = '' OR (g.code >= ? AND g.code < ?)) "
                     "AND (? = '' OR (g.code >= ? AND g.code < ?)) "
                     "AND (? < 0 OR g.depth <= ?) AND (? = 'all' OR g.status = ?) "
                     "AND (? = '' OR g.name LIKE ? ESCAPE '\\') ORDER BY g.code LIMIT ?",
                     "tttttt" "ii" "tt" "tt" "i", plo, plo, phi, lo, lo, hi,
                     q->tree ? q->max_depth : -1, q->tree ? q->max_depth : -1, status, status,
                     like, like, limit + 1);
    } else if (parent) {
        s = db_query(d,
                     "SELECT " GRID_COLS "WHERE g.parent_id = (SELECT id FROM grids WHERE code = ?) "
                     "AND (? = '' OR (g.code >= ? AND g.code < ?)) "
                     "AND (? = 'all' OR g.status = ?) ORDER BY g.code LIMIT ?",
                     "tttt" "tt" "i", parent, lo, lo, hi, status, status, limit + 1);
    } else if (scoped == 1) {
        s = db_query(d, "SELECT " GRID_COLS "WHERE g.code = ? AND (? = 'all' OR g.status = ?)",
                     "ttt", lo, status, status);
    } else {
        s = db_query(d,
                     "SELECT " GRID_COLS "WHERE g.depth = 0 AND (? = 'all' OR g.status = ?) "
                     "ORDER BY g.code LIMIT ?", "tti", status, status, limit + 1);
    }
    int n = 0, truncated = 0;
    while (s && db_step(s) == DB_ROW) {
        if (n++ >= limit) {
            truncated = 1;
            break;
        }
        json_array_append_new(items, grid_row_json(s, lv, nlv));
    }
    db_done(s);
    if (!s) {
        json_decref(items);
        return werr_set(e, W_EINTERNAL, "database_error", "cannot list grids");
    }
    *out = json_pack("{s:o, s:b}", "items", items, "truncated", truncated);
    return WOK;
}

int grid_geojson(db *d, const principal *who, const char *parent, int depth, int limit, wbuf *out,
                 werr *e)
{
    char lo[64], hi[66], plo[64] = "", phi[66] = "";
    int scoped = grid_scope_range(who, lo, hi);
    if (parent) {
        if (!valid_code(parent))
            return werr_set(e, W_EINVALID, "invalid_query", "parent: not a grid code");
        snprintf(plo, sizeof plo, "%s", parent);
        snprintf(phi, sizeof phi, "%s:", parent);
    }
    if (limit <= 0 || limit > 200000)
        limit = 50000;
    wbuf_puts(out, "{\"type\":\"FeatureCollection\",\"features\":[");
    int n = 0, truncated = 0;
    if (scoped >= 0) {
        db_stmt *s = db_query(d,
                              "SELECT g.code, g.name, g.kind, g.depth, p.code, g.geometry "
                              "FROM grids g LEFT JOIN grids p ON p.id = g.parent_id "
                              "WHERE g.status = 'active' AND g.geometry IS NOT NULL "
                              "AND (? = '' OR (g.code >= ? AND g.code < ?)) "
                              "AND (? = '' OR (g.code >= ? AND g.code < ?)) "
                              "AND (? < 0 OR g.depth = ?) ORDER BY g.code LIMIT ?",
                              "tttttt" "ii" "i", plo, plo, phi, lo, lo, hi, depth, depth,
                              limit + 1);
        while (s && db_step(s) == DB_ROW) {
            if (n >= limit) {
                truncated = 1;
                break;
            }
            const char *kind = db_col_text(s, 2);
            json_t *props = json_pack("{s:s, s:s, s:s, s:s, s:i, s:s*}", "code", db_col_text(s, 0),
                                      "name", db_col_text(s, 1), "kind", kind, "kind_label",
                                      grid_kind_label(kind), "depth", db_col_int(s, 3),
                                      "parent_code", db_col_text(s, 4));
            char *pj = json_dumps(props, JSON_COMPACT);
            json_decref(props);
            wbuf_puts(out, n ? ",{\"type\":\"Feature\",\"properties\":"
                             : "{\"type\":\"Feature\",\"properties\":");
            wbuf_puts(out, pj ? pj : "{}");
            free(pj);
            wbuf_puts(out, ",\"geometry\":");
            wbuf_puts(out, db_col_text(s, 5)); /* stored normalised by grid_prep_geometry */
            wbuf_putc(out, '}');
            n++;
        }
        db_done(s);
    }
    wbuf_printf(out, "],\"truncated\":%s}", truncated ? "true" : "false");
    if (out->oom)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    return WOK;
}

int grid_public_children(db *d, const char *parent, json_t **out, werr *e)
{
    if (parent && !valid_code(parent))
        return werr_set(e, W_EINVALID, "invalid_query", "parent: not a grid code");
    db_stmt *s = parent
                     ? db_query(d,
                                "SELECT g.code, g.name, g.depth, (SELECT count(*) FROM grids c "
                                "WHERE c.parent_id = g.id AND c.status = 'active') FROM grids g "
                                "WHERE g.parent_id = (SELECT id FROM grids WHERE code = ?) AND "
                                "g.status = 'active' ORDER BY g.code LIMIT 2000", "t", parent)
                     : db_query(d,
                                "SELECT g.code, g.name, g.depth, (SELECT count(*) FROM grids c "
                                "WHERE c.parent_id = g.id AND c.status = 'active') FROM grids g "
                                "WHERE g.depth = 0 AND g.status = 'active' ORDER BY g.code", "");
    json_t *items = json_array();
    while (s && db_step(s) == DB_ROW)
        json_array_append_new(items, json_pack("{s:s, s:s, s:i, s:b}", "code", db_col_text(s, 0),
                                               "name", db_col_text(s, 1), "depth",
                                               db_col_int(s, 2), "has_children",
                                               db_col_int(s, 3) > 0));
    db_done(s);
    *out = json_pack("{s:o}", "items", items);
    return WOK;
}

int grid_id_by_code(db *d, const char *code, int64_t *id)
{
    db_stmt *s = db_query(d, "SELECT id FROM grids WHERE code = ?", "t", code);
    int rc = s && db_step(s) == DB_ROW ? WOK : W_ENOTFOUND;
    if (rc == WOK)
        *id = db_col_int64(s, 0);
    db_done(s);
    return rc;
}
