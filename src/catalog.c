/*
 * catalog.c — the event catalogue (事项清单): parsing and validation of a
 * catalogue document, its immutable versions in catalog_versions, and the
 * in-memory cache of the current version used on every report (so the
 * report path never reads the catalogue from the database).
 */
#include "catalog.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "clock.h"
#include "validate.h"

#define CAT_MAX 2000

static const char *const level_names[] = {"community", "street", "county"};

const char *level_name(int level)
{
    return (level >= 0 && level <= 2) ? level_names[level] : "county";
}

int level_parse(const char *s)
{
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, level_names[i]) == 0)
            return i;
    return -1;
}

static const char *const urgencies[] = {"normal", "urgent", "emergency", NULL};

/* ---- parsing ---------------------------------------------------------------- */

static int bad(werr *e, const char *where, const char *what)
{
    return werr_set(e, W_EINVALID, "invalid_catalog", "catalogue %s: %s", where, what);
}

static int valid_short(const char *s, size_t max)
{
    return s && valid_code(s) && strlen(s) < max;
}

static int opt_text(json_t *o, const char *k, size_t max, const char **out)
{
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v) || !valid_text(json_string_value(v), 1, max))
        return -1;
    *out = json_string_value(v);
    return 0;
}

/* Fills cat from obj; fields absent in obj are inherited from parent. */
static int parse_one(json_t *obj, const struct cat_category *parent, struct cat_category *cat,
                     const char *where, werr *e)
{
    if (!json_is_object(obj))
        return bad(e, where, "each category is an object");
    if (parent)
        *cat = *parent;
    else
        memset(cat, 0, sizeof *cat);
    cat->name = cat->name_en = cat->icon = NULL;
    cat->parent[0] = '\0';
    if (parent)
        snprintf(cat->parent, sizeof cat->parent, "%s", parent->code);
    const char *code = json_string_value(json_object_get(obj, "code"));
    if (!valid_short(code, CAT_CODE_MAX))
        return bad(e, where, "code: 1 to 31 of letters, digits, '.', '_' or '-'");
    snprintf(cat->code, sizeof cat->code, "%s", code);
    if (opt_text(obj, "name", 64, &cat->name) != 0 || !cat->name)
        return bad(e, code, "name: 1 to 64 characters");
    if (opt_text(obj, "name_en", 128, &cat->name_en) != 0)
        return bad(e, code, "name_en: up to 128 characters");
    const char *icon = NULL;
    if (opt_text(obj, "icon", 32, &icon) != 0 || (icon && !valid_code(icon)))
        return bad(e, code, "icon: a keyword of letters, digits, '_' or '-'");
    cat->icon = icon;
    json_t *v = json_object_get(obj, "dept");
    if (v && !json_is_null(v)) {
        if (!valid_short(json_string_value(v), sizeof cat->dept))
            return bad(e, code, "dept: a department code of up to 15 characters");
        snprintf(cat->dept, sizeof cat->dept, "%s", json_string_value(v));
    } else if (v) {
        cat->dept[0] = '\0'; /* explicitly none: manual dispatch */
    }
    if ((v = json_object_get(obj, "assist"))) {
        if (!json_is_array(v) || json_array_size(v) > CAT_MAX_ASSIST)
            return bad(e, code, "assist: an array of up to 6 department codes");
        cat->nassist = 0;
        for (size_t i = 0; i < json_array_size(v); i++) {
            const char *d = json_string_value(json_array_get(v, i));
            if (!valid_short(d, sizeof cat->assist[0]))
                return bad(e, code, "assist: department codes of up to 15 characters");
            snprintf(cat->assist[cat->nassist++], sizeof cat->assist[0], "%s", d);
        }
    }
    if ((v = json_object_get(obj, "areas"))) {
        if (!json_is_array(v) || json_array_size(v) > CAT_MAX_AREAS)
            return bad(e, code, "areas: an array of up to 16 {grid_prefix, dept}");
        cat->nareas = 0;
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *a = json_array_get(v, i);
            const char *p = json_string_value(json_object_get(a, "grid_prefix"));
            const char *d = json_string_value(json_object_get(a, "dept"));
            if (!valid_short(p, sizeof cat->areas[0].prefix) ||
                !valid_short(d, sizeof cat->areas[0].dept))
                return bad(e, code, "areas: each {grid_prefix, dept} with codes");
            snprintf(cat->areas[cat->nareas].prefix, sizeof cat->areas[0].prefix, "%s", p);
            snprintf(cat->areas[cat->nareas].dept, sizeof cat->areas[0].dept, "%s", d);
            cat->nareas++;
        }
    }
    if ((v = json_object_get(obj, "limits"))) {
        if (!json_is_object(v) || json_object_size(v) < 1 ||
            json_object_size(v) > CAT_MAX_URGENCY)
            return bad(e, code, "limits: an object {normal|urgent|emergency: {...}}");
        cat->nlimits = 0;
        /* keep the order normal, urgent, emergency */
        for (int u = 0; urgencies[u]; u++) {
            json_t *l = json_object_get(v, urgencies[u]);
            if (!l)
                continue;
            json_t *rh = json_object_get(l, "response_hours"), *ch = json_object_get(l, "complete_hours");
            double r = json_number_value(rh), c = json_number_value(ch);
            if (!json_is_number(rh) || !json_is_number(ch) || !isfinite(r) || !isfinite(c) ||
                r <= 0 || c <= 0 || r > 24 * 365 || c > 24 * 365 || c < r)
                return bad(e, code, "limits: response_hours and complete_hours > 0, complete "
                                    ">= response, at most a year");
            struct cat_limit *L = &cat->limits[cat->nlimits++];
            snprintf(L->urgency, sizeof L->urgency, "%s", urgencies[u]);
            L->response_minutes = (int)lround(r * 60);
            L->complete_minutes = (int)lround(c * 60);
            if (L->response_minutes < 1)
                L->response_minutes = 1;
        }
        if ((size_t)cat->nlimits != json_object_size(v))
            return bad(e, code, "limits: keys are normal, urgent or emergency");
    }
    if ((v = json_object_get(obj, "time"))) {
        const char *t = json_string_value(v);
        if (!t || (strcmp(t, "working") && strcmp(t, "natural")))
            return bad(e, code, "time: working or natural");
        cat->working = strcmp(t, "working") == 0;
    }
    if ((v = json_object_get(obj, "onsite"))) {
        if (!json_is_boolean(v))
            return bad(e, code, "onsite: true or false");
        cat->onsite = json_is_true(v);
    }
    if ((v = json_object_get(obj, "pause_on_extension"))) {
        if (!json_is_boolean(v))
            return bad(e, code, "pause_on_extension: true or false");
        cat->pause_on_extension = json_is_true(v);
    }
    if ((v = json_object_get(obj, "level"))) {
        int l = level_parse(json_string_value(v));
        if (l < 0)
            return bad(e, code, "level: community, street or county");
        cat->level = l;
    }
    return WOK;
}

static char *public_tree(const catalog *c)
{
    json_t *arr = json_array(), *group = NULL;
    for (int i = 0; i < c->n; i++) {
        const struct cat_category *k = &c->cats[i];
        json_t *o = json_pack("{s:s, s:s, s:s?, s:s?}", "code", k->code, "name", k->name,
                              "name_en", k->name_en, "icon", k->icon);
        if (k->leaf) {
            json_t *u = json_array();
            for (int j = 0; j < k->nlimits; j++)
                json_array_append_new(u, json_string(k->limits[j].urgency));
            json_object_set_new(o, "urgency", u);
            json_object_set_new(o, "onsite", json_boolean(k->onsite));
        }
        if (!k->parent[0]) {
            json_object_set_new(o, "children", json_array());
            json_array_append(arr, o);
            group = o;
            json_decref(o);
        } else if (group) {
            json_array_append_new(json_object_get(group, "children"), o);
        } else {
            json_decref(o);
        }
    }
    json_t *doc = json_pack("{s:i, s:o}", "version", c->version, "categories", arr);
    char *s = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return s;
}

static const struct cat_category defaults = {
    .limits = {{"normal", 4 * 60, 40 * 60}}, .nlimits = 1, .working = 1, .level = LEVEL_COUNTY};

int catalog_parse(const char *json, size_t len, catalog **out, werr *e)
{
    *out = NULL;
    json_error_t je;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return werr_set(e, W_EINVALID, "invalid_catalog", "catalogue: not JSON (%s)", je.text);
    catalog *c = calloc(1, sizeof *c);
    json_t *groups = json_object_get(doc, "categories");
    int rc = WOK;
    if (!c) {
        json_decref(doc);
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    }
    c->doc = doc;
    c->refs = 1;
    if (!json_is_object(doc) || !json_is_array(groups) || json_array_size(groups) < 1) {
        rc = bad(e, "document", "an object with a non-empty \"categories\" array");
        goto fail;
    }
    size_t total = 0;
    for (size_t i = 0; i < json_array_size(groups); i++) {
        json_t *ch = json_object_get(json_array_get(groups, i), "children");
        total += 1 + (json_is_array(ch) ? json_array_size(ch) : 0);
    }
    if (total > CAT_MAX) {
        rc = bad(e, "document", "at most 2000 categories");
        goto fail;
    }
    c->cats = calloc(total, sizeof *c->cats);
    if (!c->cats) {
        rc = werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < json_array_size(groups); i++) {
        json_t *g = json_array_get(groups, i);
        struct cat_category *top = &c->cats[c->n];
        char where[48];
        snprintf(where, sizeof where, "categories[%zu]", i);
        if ((rc = parse_one(g, NULL, top, where, e)) != WOK)
            goto fail;
        /* a top-level category inherits the catalogue's defaults */
        struct cat_category tmp = defaults;
        memcpy(tmp.code, top->code, sizeof tmp.code);
        if ((rc = parse_one(g, &tmp, top, where, e)) != WOK)
            goto fail;
        top->parent[0] = '\0';
        c->n++;
        json_t *ch = json_object_get(g, "children");
        if (ch && !json_is_array(ch)) {
            rc = bad(e, top->code, "children: an array");
            goto fail;
        }
        top->leaf = !ch || json_array_size(ch) == 0;
        for (size_t j = 0; ch && j < json_array_size(ch); j++) {
            struct cat_category *k = &c->cats[c->n];
            if ((rc = parse_one(json_array_get(ch, j), top, k, top->code, e)) != WOK)
                goto fail;
            if (json_object_get(json_array_get(ch, j), "children")) {
                rc = bad(e, k->code, "only two levels (大类 → 小类)");
                goto fail;
            }
            k->leaf = 1;
            c->n++;
        }
    }
    for (int i = 0; i < c->n; i++)
        for (int j = i + 1; j < c->n; j++)
            if (strcmp(c->cats[i].code, c->cats[j].code) == 0) {
                rc = bad(e, c->cats[i].code, "code used twice");
                goto fail;
            }
    c->public_json = public_tree(c);
    if (!c->public_json) {
        rc = werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
        goto fail;
    }
    *out = c;
    return WOK;
fail:
    catalog_free(c);
    return rc;
}

void catalog_free(catalog *c)
{
    if (!c)
        return;
    free(c->cats);
    free(c->public_json);
    json_decref(c->doc);
    free(c);
}

const struct cat_category *catalog_find(const catalog *c, const char *code)
{
    if (!c || !code)
        return NULL;
    for (int i = 0; i < c->n; i++) /* ~100 entries: a scan is as fast as a hash */
        if (strcmp(c->cats[i].code, code) == 0)
            return &c->cats[i];
    return NULL;
}

const char *catalog_dept_for(const struct cat_category *cat, const char *grid_code)
{
    size_t best = 0;
    const char *dept = cat->dept;
    for (int i = 0; grid_code && i < cat->nareas; i++) {
        size_t n = strlen(cat->areas[i].prefix);
        if (n > best && strncmp(grid_code, cat->areas[i].prefix, n) == 0) {
            best = n;
            dept = cat->areas[i].dept;
        }
    }
    return dept;
}

const struct cat_limit *catalog_limit(const struct cat_category *cat, const char *urgency)
{
    for (int i = 0; urgency && i < cat->nlimits; i++)
        if (strcmp(cat->limits[i].urgency, urgency) == 0)
            return &cat->limits[i];
    /* an urgency the category does not list: the strictest it has */
    if (urgency && strcmp(urgency, "normal") != 0 && cat->nlimits > 1)
        return &cat->limits[cat->nlimits - 1];
    return &cat->limits[0];
}

/* ---- versions and the cache --------------------------------------------------- */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static store *g_st;
static catalog *g_cur;

void catalog_release(catalog *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&g_mu);
    int last = --c->refs == 0;
    pthread_mutex_unlock(&g_mu);
    if (last)
        catalog_free(c);
}

static catalog *load_version(store *st, int version)
{
    db *d = store_reader(st);
    if (!d)
        return NULL;
    db_stmt *s = version > 0
                     ? db_query(d, "SELECT version, body FROM catalog_versions WHERE version = ?",
                                "i", version)
                     : db_query(d, "SELECT version, body FROM catalog_versions "
                                   "ORDER BY version DESC LIMIT 1", "");
    catalog *c = NULL;
    if (s && db_step(s) == DB_ROW) {
        const char *body = db_col_text(s, 1);
        werr e;
        if (body && catalog_parse(body, strlen(body), &c, &e) == WOK)
            c->version = db_col_int(s, 0);
    }
    db_done(s);
    store_release(st, d);
    if (c) { /* public_json carries the version */
        free(c->public_json);
        c->public_json = public_tree(c);
        if (!c->public_json) {
            catalog_free(c);
            c = NULL;
        }
    }
    return c;
}

/* Installs c (a fresh reference) as the cached current catalogue. */
static void cache_set(store *st, catalog *c)
{
    pthread_mutex_lock(&g_mu);
    catalog *old = g_cur;
    int drop = old && --old->refs == 0;
    g_cur = c;
    g_st = st;
    pthread_mutex_unlock(&g_mu);
    if (drop)
        catalog_free(old);
}

catalog *catalog_current(store *st)
{
    pthread_mutex_lock(&g_mu);
    if (g_cur && g_st == st) {
        g_cur->refs++;
        catalog *c = g_cur;
        pthread_mutex_unlock(&g_mu);
        return c;
    }
    pthread_mutex_unlock(&g_mu);
    catalog *c = load_version(st, 0);
    if (!c)
        return NULL;
    c->refs = 2; /* the cache's and the caller's */
    cache_set(st, c);
    return c;
}

catalog *catalog_version(store *st, int version)
{
    return version > 0 ? load_version(st, version) : NULL;
}

struct save_ctx {
    const audit_actor *a;
    const char *body;
    const char *note;
    int only_if_empty;
    int version;
    werr *e;
};

static int save_tx(db *d, void *arg)
{
    struct save_ctx *c = arg;
    db_stmt *s = db_query(d, "SELECT coalesce(max(version), 0) FROM catalog_versions", "");
    int v = (s && db_step(s) == DB_ROW) ? db_col_int(s, 0) : -1;
    db_done(s);
    if (v < 0)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot read the catalogue");
    if (c->only_if_empty && v > 0) {
        c->version = 0;
        return WOK;
    }
    c->version = v + 1;
    char when[32], vbuf[16];
    clock_format(clock_now(), when);
    snprintf(vbuf, sizeof vbuf, "%d", c->version);
    int rc = db_exec(d, "INSERT INTO catalog_versions (version, created_at, created_by, note, "
                        "body) VALUES (?, ?, ?, ?, ?)", "itItt", c->version, when,
                     c->a->user_id, c->note, c->body);
    json_t *detail = json_pack("{s:i, s:s?}", "version", c->version, "note", c->note);
    if (rc == WOK)
        rc = audit_record(d, c->a, "catalog.save", "catalog", vbuf, detail);
    json_decref(detail);
    return rc == WOK ? WOK
                     : werr_set(c->e, W_EINTERNAL, "database_error", "cannot store the catalogue");
}

static int save_checked(store *st, const audit_actor *a, const char *json, size_t len,
                        const char *note, int only_if_empty, int *version, werr *e)
{
    catalog *c = NULL;
    int rc = catalog_parse(json, len, &c, e);
    if (rc != WOK)
        return rc;
    char *body = json_dumps(c->doc, JSON_COMPACT);
    if (!body) {
        catalog_free(c);
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    }
    struct save_ctx sc = {a, body, note, only_if_empty, 0, e};
    rc = store_write(st, save_tx, &sc);
    free(body);
    if (rc == WOK && sc.version > 0) {
        c->version = sc.version;
        free(c->public_json);
        c->public_json = public_tree(c);
        c->refs = 1;
        cache_set(st, c);
        c = NULL;
    }
    catalog_free(c);
    if (version)
        *version = sc.version;
    return rc;
}

int catalog_save(store *st, const audit_actor *a, const char *json, size_t len, const char *note,
                 int *version, werr *e)
{
    return save_checked(st, a, json, len, note, 0, version, e);
}

int catalog_ensure_default(store *st, werr *e)
{
    const struct asset *as = asset_find("data/catalog.json");
    if (!as)
        return werr_set(e, W_EINTERNAL, "no_default_catalog", "data/catalog.json is not built in");
    audit_actor a;
    audit_actor_system(&a, "defaults");
    return save_checked(st, &a, (const char *)as->data, as->len, "default catalogue", 1, NULL, e);
}

int catalog_put_category(store *st, const audit_actor *a, const char *code, json_t *cat,
                         int *version, werr *e)
{
    if (!json_is_object(cat))
        return werr_set(e, W_EINVALID, "invalid_catalog", "the category must be an object");
    catalog *cur = catalog_current(st);
    if (!cur)
        return werr_set(e, W_ENOTFOUND, "no_catalog", "there is no catalogue to edit yet");
    json_t *doc = json_deep_copy(cur->doc);
    catalog_release(cur);
    json_t *item = json_deep_copy(cat);
    json_object_set_new(item, "code", json_string(code));
    const char *parent = json_string_value(json_object_get(cat, "parent"));
    json_object_del(item, "parent");
    json_t *groups = json_object_get(doc, "categories");
    int done = 0;
    size_t i, j;
    json_t *g, *k;
    json_array_foreach(groups, i, g)
    {
        const char *gc = json_string_value(json_object_get(g, "code"));
        if (gc && strcmp(gc, code) == 0) {
            json_t *ch = json_object_get(g, "children"); /* keep the children */
            if (ch && !json_object_get(item, "children"))
                json_object_set(item, "children", ch);
            json_array_set(groups, i, item);
            done = 1;
            break;
        }
        json_array_foreach(json_object_get(g, "children"), j, k)
        {
            const char *kc = json_string_value(json_object_get(k, "code"));
            if (kc && strcmp(kc, code) == 0) {
                json_array_set(json_object_get(g, "children"), j, item);
                done = 1;
                break;
            }
        }
        if (done)
            break;
    }
    if (!done && parent) {
        json_array_foreach(groups, i, g)
        {
            const char *gc = json_string_value(json_object_get(g, "code"));
            if (gc && strcmp(gc, parent) == 0) {
                json_t *ch = json_object_get(g, "children");
                if (!ch) {
                    ch = json_array();
                    json_object_set_new(g, "children", ch);
                }
                json_array_append(ch, item);
                done = 1;
                break;
            }
        }
        if (!done) {
            json_decref(item);
            json_decref(doc);
            return werr_set(e, W_EINVALID, "invalid_field", "parent: no top-level category %s",
                            parent);
        }
    } else if (!done) {
        json_array_append(groups, item);
    }
    json_decref(item);
    char *body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!body)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    char note[80];
    snprintf(note, sizeof note, "edit %s", code);
    int rc = catalog_save(st, a, body, strlen(body), note, version, e);
    free(body);
    return rc;
}

int catalog_versions(db *d, json_t **out, werr *e)
{
    db_stmt *s = db_query(d, "SELECT version, created_at, created_by, note FROM "
                             "catalog_versions ORDER BY version DESC LIMIT 200", "");
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read catalogue versions");
    json_t *arr = json_array();
    while (db_step(s) == DB_ROW)
        json_array_append_new(arr, json_pack("{s:i, s:s, s:I, s:s?}", "version",
                                             db_col_int(s, 0), "created_at", db_col_text(s, 1),
                                             "created_by", (json_int_t)db_col_int64(s, 2), "note",
                                             db_col_text(s, 3)));
    db_done(s);
    *out = json_pack("{s:o}", "items", arr);
    return WOK;
}
