/*
 * grid_io.c — import and export of grids (CSV and GeoJSON) and the
 * `whistle import grids` / `whistle export grids` commands (grid.h).
 *
 * Import is two-phase: every row is parsed and checked first (geometry
 * parsed, codes checked against the levels, parents found in the database
 * or in the file, 包保单位 codes looked up) with nothing written; only when
 * no row is bad, and not in a dry run, are all rows written in one
 * transaction, parents before children. A re-import of an export updates
 * the same grids and changes nothing else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "csv.h"
#include "geo.h"
#include "grid_impl.h"
#include "locate.h"
#include "validate.h"

enum { C_CODE, C_NAME, C_KIND, C_PARENT, C_DEPT, C_GEOM, C_NOTE, C__N };

static const char *const col_names[C__N][8] = {
    [C_CODE] = {"code", "编码", "网格编码", "代码", "网格代码", "grid_code", NULL},
    [C_NAME] = {"name", "名称", "网格名称", "网格名", NULL},
    [C_KIND] = {"kind", "类型", "网格类型", "type", NULL},
    [C_PARENT] = {"parent_code", "parent", "上级编码", "上级网格编码", "上级代码", "上级网格", NULL},
    [C_DEPT] = {"dept_code", "dept", "包保单位", "包保单位编码", "包保部门", NULL},
    [C_GEOM] = {"geometry", "geojson", "边界", "范围", "多边形", NULL},
    [C_NOTE] = {"note", "备注", "说明", NULL},
};

typedef struct irow {
    int num; /* CSV line or feature number (1-based) */
    char *code, *name, *kind, *parent, *dept, *note;
    grid_prep p;
    json_t *duties; /* array or NULL */
    int depth;
    int update; /* the code exists (active): update it */
    int64_t dept_id;
} irow;

typedef struct import_ctx {
    const audit_actor *a;
    irow *rows;
    int n;
    int created, updated;
    werr *e;
} import_ctx;

static char *dupz(const char *s)
{
    return s && *s ? strdup(s) : NULL;
}

static void trim(char *s)
{
    if (!s)
        return;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    size_t k = 0;
    while (s[k] == ' ' || s[k] == '\t')
        k++;
    if (k)
        memmove(s, s + k, n - k + 1);
}

static void add_error(json_t *errors, int is_csv, int num, const char *code, const char *msg)
{
    json_t *x = json_pack("{s:i, s:s*, s:s}", is_csv ? "line" : "feature", num, "code", code,
                          "message", msg);
    json_array_append_new(errors, x);
}

/* Duty columns: "网格员" / "grid_worker" (names, 、-separated) and
 * "网格员电话" / "grid_worker_phone". Returns the duty key, *phone set. */
static const char *duty_column(const char *h, int *phone)
{
    char buf[160];
    *phone = 0;
    snprintf(buf, sizeof buf, "%s", h);
    size_t n = strlen(buf);
    const char *suffixes[] = {"_phone", "电话", "手机", "联系电话", NULL};
    for (int i = 0; suffixes[i]; i++) {
        size_t sl = strlen(suffixes[i]);
        if (n > sl && strcmp(buf + n - sl, suffixes[i]) == 0) {
            buf[n - sl] = '\0';
            *phone = 1;
            break;
        }
    }
    return grid_duty_parse(buf);
}

/* Splits a list separated by 、 ; or ； into at most max trimmed tokens. */
static int split_list(char *s, char **tok, int max)
{
    int n = 0;
    while (s && *s && n < max) {
        char *next = NULL;
        size_t skip = 0;
        const char *seps[] = {"、", ";", "；", NULL};
        for (int i = 0; seps[i]; i++) {
            char *x = strstr(s, seps[i]);
            if (x && (!next || x < next))
                next = x, skip = strlen(seps[i]);
        }
        if (next)
            *next = '\0';
        trim(s);
        tok[n++] = s;
        s = next ? next + skip : NULL;
    }
    return n;
}

/* Adds one duty per name, paired by position with the phones. */
static void add_duties(json_t *duties, const char *duty, const char *names, const char *phones)
{
    char *nb = strdup(names ? names : ""), *pb = strdup(phones ? phones : "");
    char *nt[50], *pt[50];
    int nn = nb ? split_list(nb, nt, 50) : 0, np = pb ? split_list(pb, pt, 50) : 0;
    for (int i = 0; i < nn; i++)
        if (*nt[i])
            json_array_append_new(duties, json_pack("{s:s, s:s, s:s*}", "duty", duty, "name",
                                                    nt[i], "phone",
                                                    i < np && *pt[i] ? pt[i] : NULL));
    free(nb);
    free(pb);
}

static int parse_csv(const char *data, size_t len, irow **rows_out, int *n_out, json_t *errors,
                     werr *e)
{
    csv_reader r;
    if (csv_open(&r, data, len, e) != WOK)
        return W_EINVALID;
    int rc = csv_next(&r);
    if (rc != 1) {
        csv_close(&r);
        return werr_set(e, W_EINVALID, "bad_csv", "the file has no header line%s%s",
                        rc < 0 ? ": " : "", rc < 0 ? r.error : "");
    }
    int map[CSV_MAX_FIELDS];
    const char *dkey[CSV_MAX_FIELDS];
    int dphone[CSV_MAX_FIELDS];
    int have[C__N] = {0};
    for (int i = 0; i < r.nfields; i++) {
        char h[128];
        snprintf(h, sizeof h, "%s", r.fields[i]);
        trim(h);
        for (char *p = h; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        map[i] = -1;
        dkey[i] = NULL;
        for (int c = 0; c < C__N && map[i] < 0; c++)
            for (int k = 0; col_names[c][k]; k++)
                if (strcmp(h, col_names[c][k]) == 0) {
                    map[i] = c;
                    have[c] = 1;
                    break;
                }
        if (map[i] < 0)
            dkey[i] = duty_column(h, &dphone[i]);
    }
    if (!have[C_CODE] || !have[C_NAME]) {
        csv_close(&r);
        return werr_set(e, W_EINVALID, "bad_csv",
                        "line 1: the header needs a code (编码) and a name (名称) column");
    }
    irow *rows = NULL;
    int n = 0, cap = 0;
    while ((rc = csv_next(&r)) == 1) {
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            irow *x = realloc(rows, sizeof *x * (size_t)cap);
            if (!x) {
                rc = -2;
                break;
            }
            rows = x;
        }
        irow *row = &rows[n++];
        memset(row, 0, sizeof *row);
        row->num = r.record_line;
        char *geom = NULL;
        json_t *dnames = json_object(), *dphones = json_object();
        for (int i = 0; i < r.nfields && i < CSV_MAX_FIELDS; i++) {
            char *v = r.fields[i];
            trim(v);
            switch (map[i]) {
            case C_CODE: row->code = dupz(v); break;
            case C_NAME: row->name = dupz(v); break;
            case C_KIND: row->kind = dupz(v); break;
            case C_PARENT: row->parent = dupz(v); break;
            case C_DEPT: row->dept = dupz(v); break;
            case C_NOTE: row->note = dupz(v); break;
            case C_GEOM: geom = dupz(v); break;
            default:
                if (dkey[i] && *v)
                    json_object_set_new(dphone[i] ? dphones : dnames, dkey[i], json_string(v));
            }
        }
        if (json_object_size(dnames)) {
            row->duties = json_array();
            const char *k;
            json_t *v;
            json_object_foreach(dnames, k, v)
            {
                add_duties(row->duties, k, json_string_value(v),
                           json_string_value(json_object_get(dphones, k)));
            }
        }
        json_decref(dnames);
        json_decref(dphones);
        if (geom) {
            werr ge = {0};
            geo_shape *g = NULL;
            json_error_t je;
            json_t *gj = json_loads(geom, 0, &je);
            if (!gj)
                add_error(errors, 1, row->num, row->code, "geometry: not GeoJSON");
            else if (grid_prep_geometry(gj, &row->p, &ge) != WOK)
                add_error(errors, 1, row->num, row->code, ge.message);
            json_decref(gj);
            geo_free(g);
            free(geom);
        }
    }
    if (rc < 0) {
        add_error(errors, 1, r.record_line, NULL,
                  rc == -2 ? "out of memory" : (r.error[0] ? r.error : "malformed CSV"));
    }
    csv_close(&r);
    *rows_out = rows;
    *n_out = n;
    return WOK;
}

static const char *prop_text(json_t *props, const char *key)
{
    json_t *v = json_object_get(props, key);
    if (json_is_string(v))
        return json_string_value(v);
    return NULL;
}

static int parse_geojson(const char *data, size_t len, irow **rows_out, int *n_out, json_t *errors,
                         werr *e)
{
    json_error_t je;
    json_t *fc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!fc)
        return werr_set(e, W_EINVALID, "bad_geojson", "not JSON: line %d: %s", je.line, je.text);
    json_t *features = json_object_get(fc, "features");
    const char *type = json_string_value(json_object_get(fc, "type"));
    if (!type || strcmp(type, "FeatureCollection") != 0 || !json_is_array(features)) {
        json_decref(fc);
        return werr_set(e, W_EINVALID, "bad_geojson",
                        "expected a GeoJSON FeatureCollection with a features array");
    }
    int n = (int)json_array_size(features);
    irow *rows = calloc((size_t)n + 1, sizeof *rows);
    if (!rows) {
        json_decref(fc);
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    }
    size_t i;
    json_t *f;
    json_array_foreach(features, i, f)
    {
        irow *row = &rows[i];
        row->num = (int)i + 1;
        json_t *props = json_object_get(f, "properties");
        if (!json_is_object(f) || !json_is_object(props)) {
            add_error(errors, 0, row->num, NULL, "a Feature with a properties object is required");
            continue;
        }
        /* codes may be written as numbers in GeoJSON made by GIS tools */
        json_t *jc = json_object_get(props, "code");
        if (json_is_integer(jc)) {
            char b[32];
            snprintf(b, sizeof b, "%lld", (long long)json_integer_value(jc));
            row->code = strdup(b);
        } else {
            row->code = dupz(prop_text(props, "code"));
        }
        json_t *jp = json_object_get(props, "parent_code");
        if (json_is_integer(jp)) {
            char b[32];
            snprintf(b, sizeof b, "%lld", (long long)json_integer_value(jp));
            row->parent = strdup(b);
        } else {
            row->parent = dupz(prop_text(props, "parent_code"));
        }
        row->name = dupz(prop_text(props, "name"));
        row->kind = dupz(prop_text(props, "kind"));
        row->dept = dupz(prop_text(props, "dept_code"));
        row->note = dupz(prop_text(props, "note"));
        json_t *du = json_object_get(props, "duties");
        if (du)
            row->duties = json_incref(du);
        json_t *geom = json_object_get(f, "geometry");
        if (geom && !json_is_null(geom)) {
            werr ge = {0};
            if (grid_prep_geometry(geom, &row->p, &ge) != WOK)
                add_error(errors, 0, row->num, row->code, ge.message);
        }
    }
    json_decref(fc);
    *rows_out = rows;
    *n_out = n;
    return WOK;
}

static void rows_free(irow *rows, int n)
{
    for (int i = 0; i < n; i++) {
        irow *r = &rows[i];
        free(r->code);
        free(r->name);
        free(r->kind);
        free(r->parent);
        free(r->dept);
        free(r->note);
        grid_prep_free(&r->p);
        json_decref(r->duties);
    }
    free(rows);
}

static int cmp_code(const void *a, const void *b)
{
    const irow *x = *(irow *const *)a, *y = *(irow *const *)b;
    return strcmp(x->code ? x->code : "", y->code ? y->code : "");
}

static irow *find_in_file(irow **sorted, int n, const char *code)
{
    int lo = 0, hi = n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(sorted[mid]->code ? sorted[mid]->code : "", code);
        if (c == 0)
            return sorted[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return NULL;
}

/* Phase 1: every check that does not need the write lock. */
static void check_rows(db *d, const grid_level *lv, int nlv, irow *rows, int n, int is_csv,
                       json_t *errors)
{
    irow **sorted = malloc(sizeof *sorted * (size_t)(n + 1));
    if (!sorted)
        return;
    for (int i = 0; i < n; i++)
        sorted[i] = &rows[i];
    if (n > 0)
        qsort(sorted, (size_t)n, sizeof *sorted, cmp_code);
    for (int i = 0; i + 1 < n; i++)
        if (sorted[i]->code && sorted[i + 1]->code && strcmp(sorted[i]->code, sorted[i + 1]->code) == 0)
            sorted[i + 1]->depth = -2; /* marks a duplicate */
    for (int i = 0; i < n; i++) {
        irow *r = &rows[i];
        char msg[600];
        werr e = {0};
#define BAD(...)                                                                                   \
    do {                                                                                           \
        snprintf(msg, sizeof msg, __VA_ARGS__);                                                    \
        add_error(errors, is_csv, r->num, r->code, msg);                                           \
        goto next;                                                                                 \
    } while (0)
        if (r->depth == -2)
            BAD("code: %s appears more than once in the file", r->code);
        if (!r->code)
            BAD("code: required");
        r->depth = grid_code_depth(lv, nlv, r->code);
        if (r->depth < 0)
            BAD("code: '%s' does not fit the grid levels (digits; lengths %d, %d, ...)", r->code,
                lv[0].code_len, nlv > 1 ? lv[1].code_len : 0);
        if (!r->name || !valid_text(r->name, 1, 64))
            BAD("name: 1 to 64 characters required");
        if (r->kind && !grid_kind_parse(r->kind))
            BAD("kind: unknown kind '%s' (住宅小区, 林盘院落, 沿街商铺, 景区, 机关企事业单位, "
                "园区, 其他)", r->kind);
        r->p.kind = r->kind ? grid_kind_parse(r->kind) : NULL;
        if (r->note && !valid_multiline(r->note, 0, 500))
            BAD("note: at most 500 characters");
        if (r->depth > 0) {
            char pc[64];
            snprintf(pc, sizeof pc, "%.*s", lv[r->depth - 1].code_len, r->code);
            if (r->parent && strcmp(r->parent, pc) != 0)
                BAD("parent_code: %s is not the parent of %s (expected %s)", r->parent, r->code,
                    pc);
            if (!find_in_file(sorted, n, pc)) {
                db_stmt *s = db_query(d, "SELECT status FROM grids WHERE code = ?", "t", pc);
                int ok = s && db_step(s) == DB_ROW && strcmp(db_col_text(s, 0), "active") == 0;
                db_done(s);
                if (!ok)
                    BAD("parent_code: no active grid %s in the database or the file", pc);
            }
        } else if (r->parent) {
            BAD("parent_code: the county (depth 0) has no parent");
        }
        {
            db_stmt *s = db_query(d, "SELECT status FROM grids WHERE code = ?", "t", r->code);
            if (s && db_step(s) == DB_ROW) {
                int retired = strcmp(db_col_text(s, 0), "active") != 0;
                db_done(s);
                if (retired)
                    BAD("code: %s is a retired grid; codes are never reused", r->code);
                r->update = 1;
            } else {
                db_done(s);
            }
        }
        if (r->dept && grid_resolve_dept(d, 0, r->dept, &r->dept_id, &e) != WOK)
            BAD("dept_code: no department '%s'", r->dept);
        if (r->duties && grid_prep_duties(r->duties, &r->p, &e) != WOK)
            BAD("%s", e.message);
    next:;
#undef BAD
    }
    free(sorted);
}

static int cmp_depth(const void *a, const void *b)
{
    const irow *x = a, *y = b;
    if (x->depth != y->depth)
        return x->depth - y->depth;
    return x->num - y->num;
}

static int import_tx(db *d, void *arg)
{
    import_ctx *c = arg;
    c->created = c->updated = 0;
    grid_level lv[GRID_MAX_LEVELS];
    grid_levels_load(d, lv);
    char when[32];
    clock_format(clock_now(), when);
    for (int i = 0; i < c->n; i++) {
        irow *r = &c->rows[i];
        int64_t id = 0;
        if (r->update) {
            if (grid_id_by_code(d, r->code, &id) != WOK)
                return werr_set(c->e, W_ECONFLICT, "import_conflict",
                                "row %d: grid %s changed during the import", r->num, r->code);
            int rc = db_exec(d,
                             "UPDATE grids SET name = ?, kind = coalesce(?, kind), "
                             "note = coalesce(?, note), dept_id = coalesce(NULLIF(?, 0), dept_id), "
                             "updated_at = ? WHERE id = ? AND status = 'active'",
                             "ttt" "ItI", r->name, r->p.kind, r->note, r->dept_id, when, id);
            if (rc == WOK && r->p.geometry)
                rc = db_exec(d, "UPDATE grids SET geometry = ?, min_lat = ?, min_lng = ?, "
                                "max_lat = ?, max_lng = ? WHERE id = ?", "tddddI", r->p.geometry,
                             r->p.min_lat, r->p.min_lng, r->p.max_lat, r->p.max_lng, id);
            if (rc != WOK || db_changes(d) == 0)
                return werr_set(c->e, W_ECONFLICT, "import_conflict",
                                "row %d: cannot update grid %s", r->num, r->code);
            c->updated++;
        } else {
            int64_t parent = 0;
            if (r->depth > 0) {
                char pc[64];
                snprintf(pc, sizeof pc, "%.*s", lv[r->depth - 1].code_len, r->code);
                if (grid_id_by_code(d, pc, &parent) != WOK)
                    return werr_set(c->e, W_ECONFLICT, "import_conflict",
                                    "row %d: parent %s vanished", r->num, pc);
            }
            grid_row g = {r->code, parent, r->depth, r->name, r->p.kind ? r->p.kind : "other",
                          r->p.geometry, r->p.min_lat, r->p.min_lng, r->p.max_lat, r->p.max_lng,
                          r->dept_id, NULL, r->note, 0, 0};
            int rc = grid_insert_row(d, &g, &id);
            if (rc != WOK)
                return werr_set(c->e, W_ECONFLICT, "import_conflict",
                                "row %d: cannot create grid %s", r->num, r->code);
            c->created++;
        }
        if (r->p.duties_given) {
            int rc = grid_write_duties(d, id, &r->p, c->e);
            if (rc != WOK)
                return rc;
        }
    }
    json_t *detail = json_pack("{s:i, s:i}", "created", c->created, "updated", c->updated);
    int rc = audit_record(d, c->a, "grid.import", "grid", NULL, detail);
    json_decref(detail);
    return rc == WOK ? grid_bump_generation(d) : rc;
}

int grid_import(store *st, const audit_actor *a, const char *data, size_t len, const char *format,
                int dry_run, json_t **report, werr *e)
{
    *report = NULL;
    if (!format) {
        size_t k = 0;
        if (len >= 3 && (unsigned char)data[0] == 0xEF && (unsigned char)data[1] == 0xBB &&
            (unsigned char)data[2] == 0xBF)
            k = 3;
        while (k < len && (data[k] == ' ' || data[k] == '\n' || data[k] == '\r' || data[k] == '\t'))
            k++;
        format = k < len && data[k] == '{' ? "geojson" : "csv";
    }
    int is_csv = strcmp(format, "csv") == 0;
    json_t *errors = json_array();
    irow *rows = NULL;
    int n = 0;
    int rc = is_csv ? parse_csv(data, len, &rows, &n, errors, e)
                    : parse_geojson(data, len, &rows, &n, errors, e);
    if (rc != WOK) {
        json_decref(errors);
        return rc;
    }
    db *d = store_reader(st);
    if (!d) {
        rows_free(rows, n);
        json_decref(errors);
        return werr_set(e, W_EINTERNAL, "database_unavailable", "database unavailable");
    }
    grid_level lv[GRID_MAX_LEVELS];
    int nlv = grid_levels_load(d, lv);
    if (nlv == 0) {
        store_release(st, d);
        rows_free(rows, n);
        json_decref(errors);
        return werr_set(e, W_ECONFLICT, "no_levels",
                        "configure the grid levels first (PUT /api/v1/grid-levels)");
    }
    check_rows(d, lv, nlv, rows, n, is_csv, errors);
    store_release(st, d);
    int nerr = (int)json_array_size(errors);
    import_ctx c = {a, rows, n, 0, 0, e};
    int committed = 0;
    if (nerr == 0 && !dry_run && n > 0) {
        qsort(rows, (size_t)n, sizeof *rows, cmp_depth);
        rc = store_write(st, import_tx, &c);
        if (rc != WOK) {
            add_error(errors, is_csv, 0, NULL, e->message[0] ? e->message : "write failed");
        } else {
            committed = 1;
            locate_invalidate(st);
        }
    } else {
        for (int i = 0; i < n; i++)
            *(rows[i].update ? &c.updated : &c.created) += 1;
    }
    /* sort the errors by row number for people reading them */
    *report = json_pack("{s:s, s:b, s:i, s:i, s:i, s:o, s:b}", "format", format, "dry_run",
                        dry_run, "rows", n, "created", c.created, "updated", c.updated, "errors",
                        errors, "committed", committed);
    rows_free(rows, n);
    return WOK;
}

/* ---- export ------------------------------------------------------------ */

int grid_export(db *d, const principal *who, const char *format, const char *status, wbuf *out,
                werr *e)
{
    char lo[64], hi[66];
    int scoped = grid_scope_range(who, lo, hi);
    int csv = strcmp(format, "csv") == 0;
    int all = status && strcmp(status, "all") == 0;
    if (csv) {
        wbuf_puts(out, "code,name,kind,parent_code,dept_code,note,status");
        for (int k = 0; grid_duty_keys[k]; k++)
            wbuf_printf(out, ",%s,%s_phone", grid_duty_keys[k], grid_duty_keys[k]);
        wbuf_puts(out, ",geometry\r\n");
    } else {
        wbuf_puts(out, "{\"type\":\"FeatureCollection\",\"features\":[");
    }
    if (scoped < 0)
        goto done;
    db_stmt *s = db_query(d,
                          "SELECT g.id, g.code, g.name, g.kind, p.code, dp.code, g.note, g.status, "
                          "g.geometry FROM grids g LEFT JOIN grids p ON p.id = g.parent_id "
                          "LEFT JOIN departments dp ON dp.id = g.dept_id "
                          "WHERE (? = '' OR (g.code >= ? AND g.code < ?)) "
                          "AND (? = 1 OR g.status = 'active') ORDER BY g.code",
                          "ttti", lo, lo, hi, all);
    int n = 0;
    /* Duties come from a second statement per row: prepare once. */
    while (s && db_step(s) == DB_ROW) {
        int64_t id = db_col_int64(s, 0);
        if (csv) {
            for (int k = 1; k <= 7; k++) {
                if (k > 1)
                    wbuf_putc(out, ',');
                wbuf_csv(out, db_col_text(s, k) ? db_col_text(s, k) : "");
            }
            json_t *du = grid_duties_json(d, id);
            for (int k = 0; grid_duty_keys[k]; k++) {
                wbuf names = WBUF_INIT, phones = WBUF_INIT;
                size_t i;
                json_t *x;
                int m = 0;
                json_array_foreach(du, i, x)
                {
                    if (strcmp(json_string_value(json_object_get(x, "duty")), grid_duty_keys[k]))
                        continue;
                    const char *nm = json_string_value(json_object_get(x, "name"));
                    const char *ph = json_string_value(json_object_get(x, "phone"));
                    if (m++) {
                        wbuf_puts(&names, "、");
                        wbuf_puts(&phones, "、");
                    }
                    wbuf_puts(&names, nm ? nm : "");
                    wbuf_puts(&phones, ph ? ph : "");
                }
                wbuf_putc(out, ',');
                wbuf_csv(out, names.s ? names.s : "");
                wbuf_putc(out, ',');
                wbuf_csv(out, phones.s ? phones.s : "");
                wbuf_free(&names);
                wbuf_free(&phones);
            }
            json_decref(du);
            wbuf_putc(out, ',');
            wbuf_csv(out, db_col_text(s, 8) ? db_col_text(s, 8) : "");
            wbuf_puts(out, "\r\n");
        } else {
            json_t *props = json_pack("{s:s, s:s, s:s, s:s*, s:s*, s:s*, s:s, s:o}", "code",
                                      db_col_text(s, 1), "name", db_col_text(s, 2), "kind",
                                      db_col_text(s, 3), "parent_code", db_col_text(s, 4),
                                      "dept_code", db_col_text(s, 5), "note", db_col_text(s, 6),
                                      "status", db_col_text(s, 7), "duties",
                                      grid_duties_json(d, id));
            /* duties as the import reads them: duty, name, phone */
            size_t i;
            json_t *x;
            json_array_foreach(json_object_get(props, "duties"), i, x)
            {
                json_object_del(x, "duty_label");
                json_object_del(x, "user_id");
            }
            char *pj = json_dumps(props, JSON_COMPACT);
            json_decref(props);
            wbuf_puts(out, n ? ",{\"type\":\"Feature\",\"properties\":"
                             : "{\"type\":\"Feature\",\"properties\":");
            wbuf_puts(out, pj ? pj : "{}");
            free(pj);
            wbuf_puts(out, ",\"geometry\":");
            wbuf_puts(out, db_col_text(s, 8) ? db_col_text(s, 8) : "null");
            wbuf_putc(out, '}');
        }
        n++;
    }
    db_done(s);
done:
    if (!csv)
        wbuf_puts(out, "]}\n");
    if (out->oom)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    return WOK;
}

/* ---- CLI --------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    wbuf b = WBUF_INIT;
    char chunk[65536];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0)
        wbuf_add(&b, chunk, k);
    if (f != stdin)
        fclose(f);
    if (!b.s)
        wbuf_add(&b, "", 0);
    return wbuf_steal(&b, len);
}

int grid_cli_import(int argc, char **argv)
{
    const char *usage = "[--db FILE] [--dry-run] [--format csv|geojson] FILE";
    struct cli_flag flags[] = {
        {"db", "WHISTLE_DB", "database file", 0, "whistle.db"},
        {"dry-run", NULL, "check every row and report, write nothing", 1, NULL},
        {"format", NULL, "csv or geojson (default: from the content)", 0, NULL},
        {NULL, NULL, NULL, 0, NULL},
    };
    const char *pos[2];
    int npos;
    cli_parse("import grids", usage, flags, argc, argv, pos, 1, &npos);
    if (npos != 1)
        cli_usage_error("import grids", usage, "name the FILE (- for standard input)");
    const char *format = cli_get(flags, "format");
    if (format && strcmp(format, "csv") && strcmp(format, "geojson"))
        cli_usage_error("import grids", usage, "--format %s: expected csv or geojson", format);
    size_t len = 0;
    char *data = read_file(pos[0], &len);
    if (!data) {
        fprintf(stderr, "whistle import grids: cannot read %s\n", pos[0]);
        return 1;
    }
    store *st = cli_open_store(cli_get(flags, "db"));
    audit_actor a;
    audit_actor_system(&a, "cli");
    werr e = {0};
    json_t *rep = NULL;
    int dry = cli_get(flags, "dry-run") != NULL;
    int rc = grid_import(st, &a, data, len, format, dry, &rep, &e);
    free(data);
    locate_forget(st);
    store_close(st);
    if (rc != WOK) {
        fprintf(stderr, "whistle import grids: %s\n", e.message);
        return 1;
    }
    json_t *errors = json_object_get(rep, "errors");
    size_t i;
    json_t *x;
    json_array_foreach(errors, i, x)
    {
        json_t *line = json_object_get(x, "line");
        fprintf(stderr, "%s %lld: %s%s%s\n", line ? "line" : "feature",
                (long long)json_integer_value(line ? line : json_object_get(x, "feature")),
                json_string_value(json_object_get(x, "code")) ? json_string_value(json_object_get(x, "code")) : "",
                json_string_value(json_object_get(x, "code")) ? ": " : "",
                json_string_value(json_object_get(x, "message")));
    }
    int nerr = (int)json_array_size(errors);
    if (nerr)
        printf("%d bad row%s: nothing imported\n", nerr, nerr == 1 ? "" : "s");
    else if (dry)
        printf("dry run: %lld rows ok (%lld new, %lld updates); nothing written\n",
               (long long)json_integer_value(json_object_get(rep, "rows")),
               (long long)json_integer_value(json_object_get(rep, "created")),
               (long long)json_integer_value(json_object_get(rep, "updated")));
    else
        printf("imported %lld grids (%lld new, %lld updated)\n",
               (long long)json_integer_value(json_object_get(rep, "rows")),
               (long long)json_integer_value(json_object_get(rep, "created")),
               (long long)json_integer_value(json_object_get(rep, "updated")));
    json_decref(rep);
    return nerr ? 1 : 0;
}

int grid_cli_export(int argc, char **argv)
{
    const char *usage = "[--db FILE] [--format csv|geojson] [--status active|all] [--out FILE]";
    struct cli_flag flags[] = {
        {"db", "WHISTLE_DB", "database file", 0, "whistle.db"},
        {"format", NULL, "csv or geojson", 0, "csv"},
        {"status", NULL, "active (default) or all (with retired grids)", 0, "active"},
        {"out", NULL, "write to this file instead of standard output", 0, NULL},
        {NULL, NULL, NULL, 0, NULL},
    };
    const char *pos[1];
    int npos;
    cli_parse("export grids", usage, flags, argc, argv, pos, 0, &npos);
    const char *format = cli_get(flags, "format"), *status = cli_get(flags, "status");
    if (strcmp(format, "csv") && strcmp(format, "geojson"))
        cli_usage_error("export grids", usage, "--format %s: expected csv or geojson", format);
    if (strcmp(status, "active") && strcmp(status, "all"))
        cli_usage_error("export grids", usage, "--status %s: expected active or all", status);
    store *st = cli_open_store(cli_get(flags, "db"));
    db *d = store_reader(st);
    wbuf b = WBUF_INIT;
    werr e = {0};
    int rc = d ? grid_export(d, NULL, format, status, &b, &e) : W_EINTERNAL;
    store_release(st, d);
    store_close(st);
    if (rc != WOK) {
        wbuf_free(&b);
        fprintf(stderr, "whistle export grids: %s\n", e.message[0] ? e.message : "failed");
        return 1;
    }
    const char *outp = cli_get(flags, "out");
    FILE *f = outp ? fopen(outp, "wb") : stdout;
    if (!f) {
        wbuf_free(&b);
        fprintf(stderr, "whistle export grids: cannot write %s\n", outp);
        return 1;
    }
    int ok = fwrite(b.s ? b.s : "", 1, b.len, f) == b.len;
    if (f != stdout)
        ok = fclose(f) == 0 && ok;
    wbuf_free(&b);
    if (!ok) {
        fprintf(stderr, "whistle export grids: write failed\n");
        return 1;
    }
    return 0;
}
