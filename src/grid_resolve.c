/*
 * grid_resolve.c — a free-text address, or building/unit/room, to its grid
 * through the registry's households (SPEC §2 Locate, second half), and a
 * retired grid to the active grid that replaced it (grid.h).
 *
 * Reads the registry's tables (003_registry.sql: households, households_fts)
 * and its address normaliser (registry.h), never writes them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grid_impl.h"
#include "registry.h"
#include "validate.h"

int grid_current(db *d, int64_t grid_id, int64_t *active_id)
{
    int64_t id = grid_id;
    for (int hops = 0; hops < 16; hops++) {
        db_stmt *s = db_query(d, "SELECT status, replaced_by, parent_id FROM grids WHERE id = ?",
                              "I", id);
        if (!s || db_step(s) != DB_ROW) {
            db_done(s);
            return W_ENOTFOUND;
        }
        int active = strcmp(db_col_text(s, 0), "active") == 0;
        json_t *rb = db_col_text(s, 1) ? json_loads(db_col_text(s, 1), 0, NULL) : NULL;
        int64_t parent = db_col_is_null(s, 2) ? 0 : db_col_int64(s, 2);
        db_done(s);
        if (active) {
            json_decref(rb);
            *active_id = id;
            return WOK;
        }
        const char *next = json_array_size(rb) == 1 ? json_string_value(json_array_get(rb, 0)) : NULL;
        int64_t nid = 0;
        int rc = next ? grid_id_by_code(d, next, &nid) : W_ENOTFOUND;
        json_decref(rb);
        if (rc != WOK) {
            /* split in several (or simply retired): the parent still covers it */
            if (!parent)
                return W_ENOTFOUND;
            nid = parent;
        }
        id = nid;
    }
    return W_ENOTFOUND;
}

static int table_exists(db *d, const char *name)
{
    db_stmt *s = db_query(d, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", "t",
                          name);
    int ok = s && db_step(s) == DB_ROW;
    db_done(s);
    return ok;
}

/* The answer for a grid id (followed to the active grid). */
static json_t *grid_answer(db *d, int64_t id)
{
    int64_t act = 0;
    if (grid_current(d, id, &act) != WOK)
        return NULL;
    db_stmt *s = db_query(d, "SELECT code, name, depth FROM grids WHERE id = ?", "I", act);
    json_t *g = NULL;
    if (s && db_step(s) == DB_ROW)
        g = json_pack("{s:I, s:s, s:s, s:i}", "id", (json_int_t)act, "code", db_col_text(s, 0),
                      "name", db_col_text(s, 1), "depth", db_col_int(s, 2));
    db_done(s);
    if (g)
        json_object_set_new(g, "path", grid_path(d, json_string_value(json_object_get(g, "code"))));
    return g;
}

int grid_resolve_address(db *d, const grid_resolve_input *in, json_t **out, werr *e)
{
    *out = NULL;
    if (!table_exists(d, "households"))
        return werr_set(e, W_ENOTFOUND, "no_registry", "the registry has no households");
    const char *fields[] = {in->address, in->street, in->compound, in->building, in->unit,
                            in->room};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i] && !valid_text(fields[i], 0, 200))
            return werr_set(e, W_EINVALID, "invalid_field", "address parts: at most 200 characters");
    /* 1. the parts of an address: the household's natural key */
    if (in->building || in->unit || in->room || in->compound) {
        reg_addr a;
        if (reg_address_norm(in->street, in->compound, in->building, in->unit, in->room, &a) == 0) {
            db_stmt *s = db_query(d, "SELECT grid_id FROM households WHERE addr_key = ? AND "
                                     "grid_id IS NOT NULL", "t", a.addr_key);
            int64_t gid = s && db_step(s) == DB_ROW ? db_col_int64(s, 0) : 0;
            db_done(s);
            json_t *g = gid ? grid_answer(d, gid) : NULL;
            if (g) {
                *out = json_pack("{s:o, s:s, s:b, s:i}", "grid", g, "matched", "household", "exact",
                                 1, "matches", 1);
                return WOK;
            }
        }
    }
    const char *text = in->address;
    if (!text || utf8_chars(text) < 3)
        return werr_set(e, W_ENOTFOUND, "no_grid",
                        "no household at that address (give the full address or 3+ characters)");
    /* 2. the whole address as the registry shows it */
    db_stmt *s = db_query(d, "SELECT grid_id FROM households WHERE address = ? AND grid_id IS NOT "
                             "NULL LIMIT 1", "t", text);
    int64_t gid = s && db_step(s) == DB_ROW ? db_col_int64(s, 0) : 0;
    db_done(s);
    json_t *g = gid ? grid_answer(d, gid) : NULL;
    if (g) {
        *out = json_pack("{s:o, s:s, s:b, s:i}", "grid", g, "matched", "household", "exact", 1,
                         "matches", 1);
        return WOK;
    }
    /* 3. part of an address (trigram search): the grids of the matching
     * households; several → their deepest common ancestor, marked ambiguous */
    char phrase[640];
    size_t n = 0;
    phrase[n++] = '"';
    for (const char *c = text; *c && n + 3 < sizeof phrase; c++) {
        if (*c == '"')
            phrase[n++] = '"';
        phrase[n++] = *c;
    }
    phrase[n++] = '"';
    phrase[n] = '\0';
    s = db_query(d,
                 "SELECT h.grid_id, count(*) FROM households h WHERE h.id IN (SELECT rowid FROM "
                 "households_fts WHERE households_fts MATCH ?) AND h.grid_id IS NOT NULL "
                 "GROUP BY h.grid_id ORDER BY count(*) DESC, h.grid_id LIMIT 50", "t", phrase);
    json_t *cands = json_array();
    char common[64] = "";
    int total = 0, first = 1;
    int64_t only = 0;
    while (s && db_step(s) == DB_ROW) {
        int64_t id = db_col_int64(s, 0);
        int cnt = db_col_int(s, 1);
        total += cnt;
        json_array_append_new(cands, json_pack("{s:I, s:i}", "grid_id", (json_int_t)id,
                                               "households", cnt));
        only = first ? id : only;
        first = 0;
    }
    db_done(s);
    size_t ncand = json_array_size(cands);
    if (ncand == 0) {
        json_decref(cands);
        return werr_set(e, W_ENOTFOUND, "no_grid", "no household address contains '%s'", text);
    }
    /* resolve each candidate to its active grid, and their common prefix */
    grid_level lv[GRID_MAX_LEVELS];
    int nlv = grid_levels_load(d, lv);
    size_t i;
    json_t *c;
    json_array_foreach(cands, i, c)
    {
        json_t *ga = grid_answer(d, json_integer_value(json_object_get(c, "grid_id")));
        const char *code = ga ? json_string_value(json_object_get(ga, "code")) : NULL;
        if (code) {
            if (i == 0)
                snprintf(common, sizeof common, "%s", code);
            else {
                size_t k = 0;
                while (common[k] && code[k] == common[k])
                    k++;
                common[k] = '\0';
            }
            json_object_set_new(c, "code", json_string(code));
            json_object_set(c, "name", json_object_get(ga, "name"));
        }
        json_object_del(c, "grid_id");
        json_decref(ga);
    }
    /* cut the common prefix back to a whole level */
    int depth = -1;
    for (int k = 0; k < nlv; k++)
        if ((size_t)lv[k].code_len <= strlen(common))
            depth = k;
    json_t *answer = NULL;
    if (depth >= 0) {
        common[lv[depth].code_len] = '\0';
        int64_t cid;
        if (grid_id_by_code(d, common, &cid) == WOK)
            answer = grid_answer(d, cid);
    }
    (void)only;
    if (!answer) {
        json_decref(cands);
        return werr_set(e, W_ENOTFOUND, "no_grid", "the matching households have no common grid");
    }
    int ambiguous = ncand > 1;
    *out = json_pack("{s:o, s:s, s:b, s:b, s:i, s:o}", "grid", answer, "matched", "households",
                     "exact", 0, "ambiguous", ambiguous, "matches", total, "candidates", cands);
    return WOK;
}
