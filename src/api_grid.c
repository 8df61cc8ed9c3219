/*
 * api_grid.c — handlers for the grid tree (网格), levels, locate, import /
 * export, the map's GeoJSON and the contact cards (网格服务联系卡).
 * Validation happens here; the work is in grid.c, grid_io.c, locate.c and
 * card.c.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "audit.h"
#include "card.h"
#include "grid.h"
#include "locate.h"
#include "validate.h"

static int code_param(http_req *r, const char **code, werr *e)
{
    *code = req_param(r, "code");
    if (!*code || !valid_code(*code))
        return werr_set(e, W_ENOTFOUND, "not_found", "no such grid");
    return WOK;
}

/* A write on a grid outside the caller's scope looks like a missing grid. */
static int code_in_scope(http_req *r, const char **code, werr *e)
{
    if (code_param(r, code, e) != WOK)
        return W_ENOTFOUND;
    if (!grid_visible(r->who, *code))
        return werr_set(e, W_ENOTFOUND, "not_found", "no grid %s", *code);
    return WOK;
}

/* ---- levels ------------------------------------------------------------ */

void h_grid_levels_get(http_req *r, http_resp *w)
{
    werr e = {0};
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *out = NULL;
    int rc = grid_levels_get(d, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

void h_grid_levels_put(http_req *r, http_resp *w)
{
    werr e = {0};
    audit_actor a;
    req_actor(r, &a);
    json_t *levels = json_object_get(r->json, "levels");
    if (!levels) {
        resp_error(w, 422, "invalid_field", "levels: required");
        return;
    }
    if (grid_levels_set(r->st, &a, levels, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    h_grid_levels_get(r, w);
}

/* ---- tree -------------------------------------------------------------- */

static int bool_query(http_req *r, const char *key)
{
    const char *v = req_query(r, key);
    return v && (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0);
}

void h_grids_list(http_req *r, http_resp *w)
{
    werr e = {0};
    static const char *const statuses[] = {"active", "retired", "all", NULL};
    grid_list_query q = {0};
    int64_t max_depth = -1, limit = 1000;
    if (qfield_text(r, "parent", FIELD_OPTIONAL, 63, &q.parent, &e) != WOK ||
        qfield_enum(r, "status", FIELD_OPTIONAL, statuses, &q.status, &e) != WOK ||
        qfield_text(r, "q", FIELD_OPTIONAL, 64, &q.q, &e) != WOK ||
        qfield_int(r, "max_depth", FIELD_OPTIONAL, 0, GRID_MAX_LEVELS, &max_depth, &e) != WOK ||
        qfield_int(r, "limit", FIELD_OPTIONAL, 1, 20000, &limit, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    q.tree = bool_query(r, "tree");
    q.max_depth = (int)max_depth;
    q.limit = (int)limit;
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *out = NULL;
    int rc = grid_list(d, r->who, &q, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

static void respond_grid(http_req *r, http_resp *w, int status, const char *code)
{
    werr e = {0};
    db *d = store_reader(r->st);
    json_t *out = NULL;
    int rc = d ? grid_get(d, NULL, code, 0, &out, &e) : W_EINTERNAL;
    store_release(r->st, d);
    if (rc != WOK)
        resp_json(w, status, json_pack("{s:s}", "code", code));
    else
        resp_json(w, status, out);
}

void h_grids_get(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *code;
    if (code_param(r, &code, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *out = NULL;
    int rc = grid_get(d, r->who, code, bool_query(r, "geometry"), &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

/* Fields shared by create and update. */
static int read_input(http_req *r, grid_input *in, werr *e)
{
    int64_t dept = 0;
    if (jfield_text(r->json, "code", FIELD_OPTIONAL, 1, 63, &in->code, e) != WOK ||
        jfield_text(r->json, "parent_code", FIELD_OPTIONAL, 1, 63, &in->parent_code, e) != WOK ||
        jfield_text(r->json, "name", FIELD_OPTIONAL, 1, 64, &in->name, e) != WOK ||
        jfield_text(r->json, "kind", FIELD_OPTIONAL, 1, 32, &in->kind, e) != WOK ||
        jfield_int(r->json, "dept_id", FIELD_OPTIONAL, 1, INT64_MAX, &dept, e) != WOK ||
        jfield_text(r->json, "dept_code", FIELD_OPTIONAL, 1, 32, &in->dept_code, e) != WOK ||
        jfield_multiline(r->json, "note", FIELD_OPTIONAL, 0, 500, &in->note, e) != WOK)
        return W_EINVALID;
    in->dept_id = dept;
    json_t *dj = json_object_get(r->json, "dept_id");
    in->dept_clear = dj && json_is_null(dj);
    in->geometry = json_object_get(r->json, "geometry");
    in->geometry_given = in->geometry != NULL;
    in->duties = json_object_get(r->json, "duties");
    return WOK;
}

void h_grids_create(http_req *r, http_resp *w)
{
    werr e = {0};
    grid_input in = {0};
    if (read_input(r, &in, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    if (!in.name) {
        resp_error(w, 422, "invalid_field", "name: required");
        return;
    }
    const char *parent = in.parent_code ? in.parent_code : in.code;
    if (parent && !grid_visible(r->who, parent)) {
        resp_error(w, 404, "not_found", "no grid %s in your scope", parent);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    char code[64];
    if (grid_create(r->st, &a, &in, code, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    respond_grid(r, w, 201, code);
}

void h_grids_update(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *code;
    grid_input in = {0};
    if (code_in_scope(r, &code, &e) != WOK || read_input(r, &in, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    if (in.code || in.parent_code) {
        resp_error(w, 422, "invalid_field",
                   "code/parent_code: a grid's code never changes; split or merge to move it");
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    if (grid_update(r->st, &a, code, &in, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    respond_grid(r, w, 200, code);
}

void h_grids_duties_put(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *code;
    if (code_in_scope(r, &code, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    grid_input in = {0};
    in.duties = json_object_get(r->json, "duties");
    if (!in.duties) {
        resp_error(w, 422, "invalid_field", "duties: required (an array; [] removes all)");
        return;
    }
    int64_t dept = 0;
    if (jfield_int(r->json, "dept_id", FIELD_OPTIONAL, 1, INT64_MAX, &dept, &e) != WOK ||
        jfield_text(r->json, "dept_code", FIELD_OPTIONAL, 1, 32, &in.dept_code, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    in.dept_id = dept;
    json_t *dj = json_object_get(r->json, "dept_id");
    in.dept_clear = dj && json_is_null(dj);
    audit_actor a;
    req_actor(r, &a);
    if (grid_update(r->st, &a, code, &in, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    respond_grid(r, w, 200, code);
}

void h_grids_retire(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *code, *reason = NULL;
    int cascade = 0;
    if (code_in_scope(r, &code, &e) != WOK ||
        jfield_multiline(r->json, "reason", FIELD_OPTIONAL, 0, 500, &reason, &e) != WOK ||
        jfield_bool(r->json, "cascade", FIELD_OPTIONAL, &cascade, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    if (grid_retire(r->st, &a, code, reason, json_object_get(r->json, "replaced_by"), cascade,
                    &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    respond_grid(r, w, 200, code);
}

void h_grids_split(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *code, *reason = NULL;
    if (code_in_scope(r, &code, &e) != WOK ||
        jfield_multiline(r->json, "reason", FIELD_OPTIONAL, 0, 500, &reason, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    json_t *out = NULL;
    if (grid_split(r->st, &a, code, json_object_get(r->json, "parts"), reason, &out, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 200, out);
}

void h_grids_merge(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *code, *reason = NULL;
    grid_input in = {0};
    if (code_in_scope(r, &code, &e) != WOK || read_input(r, &in, &e) != WOK ||
        jfield_multiline(r->json, "reason", FIELD_OPTIONAL, 0, 500, &reason, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    in.parent_code = NULL;
    json_t *with = json_object_get(r->json, "with");
    size_t i;
    json_t *x;
    json_array_foreach(with, i, x)
    {
        if (json_is_string(x) && !grid_visible(r->who, json_string_value(x))) {
            resp_error(w, 404, "not_found", "no grid %s in your scope", json_string_value(x));
            return;
        }
    }
    audit_actor a;
    req_actor(r, &a);
    json_t *out = NULL;
    if (grid_merge(r->st, &a, code, with, &in, reason, &out, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 200, out);
}

/* ---- map, import, export ----------------------------------------------- */

void h_grids_geojson(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *parent = NULL;
    int64_t depth = -1, limit = 50000;
    if (qfield_text(r, "parent", FIELD_OPTIONAL, 63, &parent, &e) != WOK ||
        qfield_int(r, "depth", FIELD_OPTIONAL, 0, GRID_MAX_LEVELS, &depth, &e) != WOK ||
        qfield_int(r, "limit", FIELD_OPTIONAL, 1, 200000, &limit, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    wbuf b = WBUF_INIT;
    int rc = grid_geojson(d, r->who, parent, (int)depth, (int)limit, &b, &e);
    store_release(r->st, d);
    if (rc != WOK) {
        wbuf_free(&b);
        resp_werr(w, &e);
        return;
    }
    size_t len;
    char *s = wbuf_steal(&b, &len);
    resp_bytes(w, 200, "application/geo+json", s, len);
}

void h_grids_import(http_req *r, http_resp *w)
{
    werr e = {0};
    static const char *const formats[] = {"csv", "geojson", NULL};
    const char *format = NULL;
    if (qfield_enum(r, "format", FIELD_OPTIONAL, formats, &format, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    int dry = bool_query(r, "dry_run");
    if (!r->body || r->body_len == 0) {
        resp_error(w, 400, "empty_body", "send the CSV or GeoJSON file as the request body");
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    json_t *report = NULL;
    int rc = grid_import(r->st, &a, r->body, r->body_len, format, dry, &report, &e);
    if (rc != WOK) {
        json_decref(report);
        resp_werr(w, &e);
        return;
    }
    size_t nerr = json_array_size(json_object_get(report, "errors"));
    if (nerr && !dry) {
        json_t *body = json_pack("{s:{s:s, s:s+}, s:o}", "error", "code", "import_rejected",
                                 "message", "nothing imported: ",
                                 nerr == 1 ? "1 bad row" : "bad rows (see report.errors)",
                                 "report", report);
        resp_json(w, 422, body);
        return;
    }
    resp_json(w, 200, report);
}

void h_grids_export(http_req *r, http_resp *w)
{
    werr e = {0};
    static const char *const formats[] = {"csv", "geojson", NULL};
    static const char *const statuses[] = {"active", "all", NULL};
    const char *format = "csv", *status = "active";
    if (qfield_enum(r, "format", FIELD_OPTIONAL, formats, &format, &e) != WOK ||
        qfield_enum(r, "status", FIELD_OPTIONAL, statuses, &status, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    wbuf b = WBUF_INIT;
    int rc = grid_export(d, r->who, format, status, &b, &e);
    store_release(r->st, d);
    if (rc != WOK) {
        wbuf_free(&b);
        resp_werr(w, &e);
        return;
    }
    size_t len;
    char *s = wbuf_steal(&b, &len);
    int csv = strcmp(format, "csv") == 0;
    resp_header(w, "Content-Disposition",
                csv ? "attachment; filename=\"grids.csv\"" : "attachment; filename=\"grids.geojson\"");
    resp_bytes(w, 200, csv ? "text/csv; charset=utf-8" : "application/geo+json", s, len);
}

/* ---- locate ------------------------------------------------------------ */

static int coord_query(http_req *r, const char *key, double lo, double hi, double *out, werr *e)
{
    const char *v = req_query(r, key);
    if (!v || !*v)
        return werr_set(e, W_EINVALID, "invalid_query", "%s: required", key);
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || *end || end == v || !isfinite(x) || x < lo || x > hi)
        return werr_set(e, W_EINVALID, "invalid_query", "%s: a number from %g to %g (WGS84)", key,
                        lo, hi);
    *out = x;
    return WOK;
}

void h_locate(http_req *r, http_resp *w)
{
    werr e = {0};
    double lat, lng;
    if (coord_query(r, "lat", -90, 90, &lat, &e) != WOK ||
        coord_query(r, "lng", -180, 180, &lng, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    locate_result g;
    if (locate_point(r->st, lat, lng, &g, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    json_t *out = json_pack("{s:{s:I, s:s, s:s, s:i}, s:f, s:f}", "grid", "id",
                            (json_int_t)g.grid_id, "code", g.code, "name", g.name, "depth",
                            g.depth, "lat", lat, "lng", lng);
    db *d = store_reader(r->st);
    if (d) {
        json_object_set_new(json_object_get(out, "grid"), "path", grid_path(d, g.code));
        store_release(r->st, d);
    }
    resp_json(w, 200, out);
}

void h_public_locate(http_req *r, http_resp *w)
{
    werr e = {0};
    double lat, lng;
    if (coord_query(r, "lat", -90, 90, &lat, &e) != WOK ||
        coord_query(r, "lng", -180, 180, &lng, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    locate_result g;
    if (locate_point(r->st, lat, lng, &g, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 200, json_pack("{s:s, s:s}", "code", g.code, "name", g.name));
}

void h_public_grids(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *parent = NULL;
    if (qfield_text(r, "parent", FIELD_OPTIONAL, 63, &parent, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *out = NULL;
    int rc = grid_public_children(d, parent, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

/* ---- contact cards ----------------------------------------------------- */

/* The base URL the QR codes point to: ?base=, else this request's host. */
static int base_url(http_req *r, char out[256], werr *e)
{
    const char *b = req_query(r, "base");
    if (b && *b) {
        if (!card_valid_base(b))
            return werr_set(e, W_EINVALID, "invalid_query",
                            "base: an http:// or https:// URL without quotes or spaces");
        snprintf(out, 256, "%s", b);
        return WOK;
    }
    const char *host = req_header(r, "Host");
    const char *proto = req_header(r, "X-Forwarded-Proto");
    int https = proto && strcmp(proto, "https") == 0;
    snprintf(out, 256, "%s://%s", https ? "https" : "http", host && *host ? host : "localhost");
    if (!card_valid_base(out))
        snprintf(out, 256, "http://localhost");
    return WOK;
}

void h_grids_cards(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *code;
    int64_t copies = 1;
    char base[256];
    static const char *const modes[] = {"leaves", "self", NULL};
    const char *mode = "leaves";
    if (code_in_scope(r, &code, &e) != WOK || base_url(r, base, &e) != WOK ||
        qfield_int(r, "copies", FIELD_OPTIONAL, 1, 100, &copies, &e) != WOK ||
        qfield_enum(r, "per", FIELD_OPTIONAL, modes, &mode, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    wbuf b = WBUF_INIT;
    int rc = card_render(d, code, base, strcmp(mode, "leaves") == 0, (int)copies, &b, &e);
    store_release(r->st, d);
    if (rc != WOK) {
        wbuf_free(&b);
        resp_werr(w, &e);
        return;
    }
    size_t len;
    char *s = wbuf_steal(&b, &len);
    resp_bytes(w, 200, "text/html; charset=utf-8", s, len);
}

void h_grids_qr(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *code;
    char base[256];
    if (code_in_scope(r, &code, &e) != WOK || base_url(r, base, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    char url[400];
    card_report_url(base, code, url, sizeof url);
    wbuf b = WBUF_INIT;
    if (card_qr_svg(url, 4, &b, &e) != WOK) {
        wbuf_free(&b);
        resp_werr(w, &e);
        return;
    }
    size_t len;
    char *s = wbuf_steal(&b, &len);
    resp_bytes(w, 200, "image/svg+xml", s, len);
}

void h_card_css(http_req *r, http_resp *w)
{
    (void)r;
    resp_header(w, "Cache-Control", "public, max-age=3600");
    resp_static(w, 200, "text/css; charset=utf-8", (const unsigned char *)card_css,
                strlen(card_css));
}

/* GET /api/v1/grids/resolve?address=…|compound=&building=&unit=&room= */
void h_grids_resolve(http_req *r, http_resp *w)
{
    werr e = {0};
    grid_resolve_input in = {0};
    if (qfield_text(r, "address", FIELD_OPTIONAL, 200, &in.address, &e) != WOK ||
        qfield_text(r, "street", FIELD_OPTIONAL, 200, &in.street, &e) != WOK ||
        qfield_text(r, "compound", FIELD_OPTIONAL, 200, &in.compound, &e) != WOK ||
        qfield_text(r, "building", FIELD_OPTIONAL, 32, &in.building, &e) != WOK ||
        qfield_text(r, "unit", FIELD_OPTIONAL, 32, &in.unit, &e) != WOK ||
        qfield_text(r, "room", FIELD_OPTIONAL, 32, &in.room, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    if (!in.address && !in.building && !in.unit && !in.room && !in.compound) {
        resp_error(w, 422, "invalid_query", "address (or compound/building/unit/room): required");
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *out = NULL;
    int rc = grid_resolve_address(d, &in, &out, &e);
    store_release(r->st, d);
    if (rc == WOK &&
        !grid_visible(r->who, json_string_value(json_object_get(json_object_get(out, "grid"), "code")))) {
        json_decref(out);
        out = NULL;
        rc = werr_set(&e, W_ENOTFOUND, "no_grid", "no household at that address in your grids");
    }
    resp_result(w, rc, 200, out, &e);
}
