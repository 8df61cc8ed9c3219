/*
 * open311.c — GeoReport v2 over work orders. See open311.h and
 * docs/open311.md.
 */
#include "open311.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "catalog.h"
#include "clock.h"
#include "order.h"
#include "validate.h"

/* ---- rendering ------------------------------------------------------------ */

/* XML text: escape markup and drop the control characters XML 1.0 forbids. */
static void xml_text(wbuf *b, const char *s)
{
    char one[2] = {0, 0};
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            continue;
        one[0] = (char)c;
        wbuf_html(b, one);
    }
}

static int xml_name_ok(const char *k)
{
    if (!k || !*k || !((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || *k == '_'))
        return 0;
    for (; *k; k++)
        if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') ||
              *k == '_' || *k == '-'))
            return 0;
    return 1;
}

/* The element for one entry of an array held under key. */
static const char *singular(const char *key)
{
    static const struct {
        const char *plural, *one;
    } names[] = {
        {"attributes", "attribute"},     {"values", "value"}, {"endpoints", "endpoint"},
        {"formats", "format"},           {"errors", "error"}, {"services", "service"},
        {"service_requests", "request"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i].plural, key) == 0)
            return names[i].one;
    return "item";
}

static void xml_value(wbuf *b, const char *name, json_t *v, int depth);

static void xml_children(wbuf *b, const char *name, json_t *v, int depth)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x)
        {
            if (xml_name_ok(k))
                xml_value(b, k, x, depth + 1);
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        const char *item = singular(name);
        json_array_foreach(v, i, x) xml_value(b, item, x, depth + 1);
    } else if (json_is_string(v)) {
        xml_text(b, json_string_value(v));
    } else if (json_is_true(v)) {
        wbuf_puts(b, "true");
    } else if (json_is_false(v)) {
        wbuf_puts(b, "false");
    } else if (json_is_number(v)) {
        char *s = json_dumps(v, JSON_ENCODE_ANY);
        wbuf_puts(b, s ? s : "");
        free(s);
    }
}

static void xml_value(wbuf *b, const char *name, json_t *v, int depth)
{
    if (depth > 16)
        return;
    if (!v || json_is_null(v)) {
        wbuf_printf(b, "<%s/>", name);
        return;
    }
    wbuf_printf(b, "<%s>", name);
    xml_children(b, name, v, depth);
    wbuf_printf(b, "</%s>", name);
}

char *o311_render(json_t *v, int format, const char *root, const char *item, size_t *len)
{
    if (format == O311_JSON) {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (s && len)
            *len = strlen(s);
        return s;
    }
    wbuf b = WBUF_INIT;
    wbuf_puts(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    wbuf_printf(&b, "<%s>", root);
    if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) xml_value(&b, item, x, 1);
    } else {
        xml_children(&b, root, v, 0);
    }
    wbuf_printf(&b, "</%s>\n", root);
    return wbuf_steal(&b, len);
}

json_t *o311_error(int status, const char *description)
{
    return json_pack("[{s:i, s:s}]", "code", status, "description",
                     description && valid_utf8(description, strlen(description)) ? description
                                                                                 : "error");
}

/* ---- settings and the data file --------------------------------------------- */

/* data/open311.json, parsed once (read-only afterwards). */
static json_t *o311_data(void)
{
    static json_t *data;
    static int loaded;
    if (!__atomic_load_n(&loaded, __ATOMIC_ACQUIRE)) {
        const struct asset *a = asset_find("data/open311.json");
        json_t *d = a ? json_loadb((const char *)a->data, a->len, 0, NULL) : NULL;
        if (!d)
            d = json_object();
        json_t *expected = NULL;
        if (__atomic_compare_exchange_n(&data, &expected, d, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            __atomic_store_n(&loaded, 1, __ATOMIC_RELEASE);
        else
            json_decref(d); /* another thread won */
    }
    return data;
}

/* The text value of a setting in force now, or NULL. Settings hold JSON. */
static int setting_text(db *d, const char *key, char *out, size_t n)
{
    char now[32];
    clock_format(clock_now(), now);
    db_stmt *s = db_query(d,
                          "SELECT value FROM settings WHERE key = ? AND valid_from <= ? "
                          "ORDER BY valid_from DESC LIMIT 1",
                          "tt", key, now);
    int found = 0;
    if (s && db_step(s) == DB_ROW && db_col_text(s, 0)) {
        json_t *v = json_loads(db_col_text(s, 0), JSON_DECODE_ANY, NULL);
        if (json_is_string(v)) {
            snprintf(out, n, "%s", json_string_value(v));
            found = 1;
        } else if (json_is_integer(v)) {
            snprintf(out, n, "%lld", (long long)json_integer_value(v));
            found = 1;
        }
        json_decref(v);
    }
    db_done(s);
    return found;
}

void o311_jurisdiction(db *d, char out[64])
{
    if (setting_text(d, "open311.jurisdiction_id", out, 64))
        return;
    const char *fixed = json_string_value(json_object_get(o311_data(), "jurisdiction_id"));
    if (fixed) {
        snprintf(out, 64, "%s", fixed);
        return;
    }
    db_stmt *s =
        db_query(d, "SELECT code FROM grids WHERE parent_id IS NULL ORDER BY id LIMIT 1", "");
    if (s && db_step(s) == DB_ROW && db_col_text(s, 0))
        snprintf(out, 64, "%s", db_col_text(s, 0));
    else
        snprintf(out, 64, "whistle");
    db_done(s);
}

json_t *o311_discovery(db *d, const char *base_url)
{
    json_t *data = o311_data();
    char changeset[32] = "";
    db_stmt *s = db_query(d,
                          "SELECT created_at FROM catalog_versions ORDER BY version DESC "
                          "LIMIT 1",
                          "");
    if (s && db_step(s) == DB_ROW && db_col_text(s, 0))
        snprintf(changeset, sizeof changeset, "%s", db_col_text(s, 0));
    db_done(s);
    if (!changeset[0])
        clock_format(0, changeset);
    char url[600];
    snprintf(url, sizeof url, "%s/open311/v2", base_url);
    const char *contact = json_string_value(json_object_get(data, "contact"));
    const char *keys = json_string_value(json_object_get(data, "key_service"));
    return json_pack("{s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:[s, s]}]}", "changeset", changeset,
                     "contact", contact ? contact : "", "key_service", keys ? keys : "",
                     "endpoints", "specification", "http://wiki.open311.org/GeoReport_v2", "url",
                     url, "changeset", changeset, "type", "production", "formats", "text/xml",
                     "application/json");
}

/* ---- services ---------------------------------------------------------------- */

static json_t *attributes_of(const char *code)
{
    return json_object_get(json_object_get(o311_data(), "attributes"), code);
}

int o311_services(store *st, json_t **out, werr *e)
{
    catalog *c = catalog_current(st);
    if (!c)
        return werr_set(e, W_EBUSY, "no_catalog", "the event catalogue is not loaded");
    json_t *arr = json_array();
    for (int i = 0; i < c->n; i++) {
        const struct cat_category *cat = &c->cats[i];
        if (!cat->leaf)
            continue;
        const struct cat_category *parent = cat->parent[0] ? catalog_find(c, cat->parent) : NULL;
        char keywords[400];
        snprintf(keywords, sizeof keywords, "%s, %s%s%s", cat->name ? cat->name : "",
                 cat->name_en ? cat->name_en : "", parent ? ", " : "",
                 parent && parent->name ? parent->name : "");
        char desc[300];
        snprintf(desc, sizeof desc, "%s%s%s", cat->name_en ? cat->name_en : "",
                 parent && parent->name_en ? " — " : "",
                 parent && parent->name_en ? parent->name_en : "");
        json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:s}", "service_code",
                                             cat->code, "service_name",
                                             cat->name ? cat->name : cat->code, "description", desc,
                                             "metadata", attributes_of(cat->code) != NULL, "type",
                                             "realtime", "keywords", keywords, "group",
                                             parent && parent->name ? parent->name : ""));
    }
    catalog_release(c);
    *out = arr;
    return WOK;
}

int o311_service_definition(store *st, const char *code, json_t **out, werr *e)
{
    catalog *c = catalog_current(st);
    if (!c)
        return werr_set(e, W_EBUSY, "no_catalog", "the event catalogue is not loaded");
    const struct cat_category *cat = catalog_find(c, code);
    int ok = cat && cat->leaf;
    catalog_release(c);
    if (!ok)
        return werr_set(e, W_ENOTFOUND, "not_found", "service_code %s not found", code);
    json_t *attrs = json_array();
    json_t *defs = attributes_of(code);
    size_t i;
    json_t *a;
    json_array_foreach(defs, i, a)
    {
        json_t *x = json_pack(
            "{s:b, s:O, s:O, s:b, s:s, s:O, s:O}", "variable", 1, "code",
            json_object_get(a, "code"), "datatype", json_object_get(a, "datatype"), "required",
            json_is_true(json_object_get(a, "required")), "datatype_description", "", "order",
            json_object_get(a, "order"), "description", json_object_get(a, "description"));
        json_t *vals = json_object_get(a, "values");
        if (x && vals)
            json_object_set(x, "values", vals);
        if (x)
            json_array_append_new(attrs, x);
    }
    *out = json_pack("{s:s, s:o}", "service_code", code, "attributes", attrs);
    return WOK;
}

/* ---- POST requests -------------------------------------------------------------- */

/* The answer to one attribute as text ("" when absent); W_EBADREQ when it
 * does not fit its datatype. */
static int attribute_answer(const json_t *def, const form *f, wbuf *line, werr *e)
{
    const char *code = json_string_value(json_object_get(def, "code"));
    const char *type = json_string_value(json_object_get(def, "datatype"));
    if (!code || !type)
        return WOK;
    char key[FORM_MAX_KEY + 8], key_multi[FORM_MAX_KEY + 8];
    snprintf(key, sizeof key, "attribute[%s]", code);
    snprintf(key_multi, sizeof key_multi, "attribute[%s][]", code);
    json_t *values = json_object_get(def, "values");
    int n = 0;
    for (int i = 0; f && i < f->n; i++) {
        int multi = strcmp(f->f[i].key, key_multi) == 0;
        if (strcmp(f->f[i].key, key) != 0 && !multi)
            continue;
        const char *v = f->f[i].value;
        if (!*v)
            continue;
        if (n > 0 && strcmp(type, "multivaluelist") != 0)
            return werr_set(e, W_EBADREQ, "bad_attribute", "attribute[%s]: one value only", code);
        if (!valid_text(v, 1, 200))
            return werr_set(e, W_EBADREQ, "bad_attribute",
                            "attribute[%s]: 1 to 200 characters of text", code);
        const char *shown = v;
        if (!strcmp(type, "singlevaluelist") || !strcmp(type, "multivaluelist")) {
            size_t j;
            json_t *opt;
            shown = NULL;
            json_array_foreach(values, j, opt)
            {
                if (strcmp(json_string_value(json_object_get(opt, "key")) ?: "", v) == 0)
                    shown = json_string_value(json_object_get(opt, "name"));
            }
            if (!shown)
                return werr_set(e, W_EBADREQ, "bad_attribute",
                                "attribute[%s]: '%s' is not one of the listed keys", code, v);
        } else if (!strcmp(type, "number")) {
            char *end;
            double d = strtod(v, &end);
            if (*end || end == v || !isfinite(d))
                return werr_set(e, W_EBADREQ, "bad_attribute", "attribute[%s]: not a number", code);
        } else if (!strcmp(type, "datetime")) {
            int64_t t;
            if (clock_parse(v, &t) != 0)
                return werr_set(e, W_EBADREQ, "bad_attribute",
                                "attribute[%s]: not an ISO 8601 date/time", code);
        }
        wbuf_puts(line, n ? "、" : "");
        wbuf_puts(line, shown);
        n++;
    }
    if (n == 0 && json_is_true(json_object_get(def, "required")))
        return werr_set(e, W_EBADREQ, "missing_attribute", "attribute[%s]: required", code);
    return WOK;
}

struct o311_audit_ctx {
    const audit_actor *a;
    int64_t order_id;
    const o311_post *in;
};

static int o311_audit_tx(db *d, void *arg)
{
    struct o311_audit_ctx *c = arg;
    char id[24];
    snprintf(id, sizeof id, "%lld", (long long)c->order_id);
    json_t *detail = json_pack(
        "{s:s, s:s?, s:s?, s:s?, s:s?, s:s?, s:s?}", "service_code", c->in->service_code, "email",
        c->in->email, "device_id", c->in->device_id, "account_id", c->in->account_id, "first_name",
        c->in->first_name, "last_name", c->in->last_name, "media_url", c->in->media_url);
    int rc = audit_record(d, c->a, "open311.request", "order", id, detail);
    json_decref(detail);
    return rc;
}

static int post_error(werr *e, int rc, const char *code, const char *msg)
{
    return werr_set(e, rc, code, "%s", msg);
}

int o311_post_request(store *st, const principal *who, const audit_actor *a, const o311_post *in,
                      json_t **out, werr *e)
{
    if (!who || !perm_allows(who->role, "order.report"))
        return post_error(e, W_EFORBIDDEN, "forbidden",
                          "this api_key's account may not report problems");
    if (!in->service_code || !*in->service_code)
        return post_error(e, W_EBADREQ, "missing_field", "service_code: required");
    catalog *c = catalog_current(st);
    if (!c)
        return werr_set(e, W_EBUSY, "no_catalog", "the event catalogue is not loaded");
    const struct cat_category *cat = catalog_find(c, in->service_code);
    int known = cat && cat->leaf;
    char service_name[200] = "";
    if (known)
        snprintf(service_name, sizeof service_name, "%s", cat->name ? cat->name : cat->code);
    catalog_release(c);
    if (!known)
        return werr_set(e, W_EBADREQ, "unknown_service", "service_code %s not found",
                        in->service_code);
    if (!in->has_location && !(in->address_string && *in->address_string) &&
        !(in->address_id && *in->address_id))
        return post_error(e, W_EBADREQ, "missing_location",
                          "a location is required: lat and long, address_string or address_id");
    if (in->description && !valid_multiline(in->description, 0, 1500))
        return post_error(e, W_EBADREQ, "bad_field", "description: at most 1500 characters");
    if (in->address_string && !valid_text(in->address_string, 0, 200))
        return post_error(e, W_EBADREQ, "bad_field", "address_string: at most 200 characters");
    if (in->address_id && !valid_text(in->address_id, 0, 64))
        return post_error(e, W_EBADREQ, "bad_field", "address_id: at most 64 characters");
    if (in->phone && *in->phone && !valid_phone(in->phone))
        return post_error(e, W_EBADREQ, "bad_field", "phone: not a phone number");
    if (in->email && *in->email && (!valid_text(in->email, 3, 200) || !strchr(in->email, '@')))
        return post_error(e, W_EBADREQ, "bad_field", "email: not an e-mail address");
    if ((in->first_name && !valid_text(in->first_name, 0, 32)) ||
        (in->last_name && !valid_text(in->last_name, 0, 32)))
        return post_error(e, W_EBADREQ, "bad_field", "first_name/last_name: at most 32 characters");
    if ((in->device_id && !valid_text(in->device_id, 0, 100)) ||
        (in->account_id && !valid_text(in->account_id, 0, 100)))
        return post_error(e, W_EBADREQ, "bad_field",
                          "device_id/account_id: at most 100 characters");
    if (in->media_url && *in->media_url &&
        (!valid_text(in->media_url, 8, 500) ||
         (strncmp(in->media_url, "http://", 7) && strncmp(in->media_url, "https://", 8))))
        return post_error(e, W_EBADREQ, "bad_field", "media_url: an http(s) URL");

    /* The description the centre reads: the text, then the answers to the
     * category's extra questions, then the media link. */
    wbuf d = WBUF_INIT;
    wbuf_puts(&d, in->description && *in->description ? in->description : service_name);
    json_t *defs = attributes_of(in->service_code);
    size_t i;
    json_t *def;
    json_array_foreach(defs, i, def)
    {
        wbuf ans = WBUF_INIT;
        int rc = attribute_answer(def, in->fields, &ans, e);
        if (rc == WOK && ans.len) {
            const char *label = json_string_value(json_object_get(def, "description"));
            wbuf_printf(&d, "\n【%s】%s", label ? label : "", ans.s);
        }
        wbuf_free(&ans);
        if (rc != WOK) {
            wbuf_free(&d);
            return rc;
        }
    }
    if (in->media_url && *in->media_url)
        wbuf_printf(&d, "\n【media_url】%s", in->media_url);
    if (d.oom) {
        wbuf_free(&d);
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    }
    char name[72] = "";
    snprintf(name, sizeof name, "%s%s%s", in->last_name ? in->last_name : "",
             in->last_name && *in->last_name && in->first_name && *in->first_name ? " " : "",
             in->first_name ? in->first_name : "");
    char address[240] = "";
    if (in->address_string && *in->address_string)
        snprintf(address, sizeof address, "%s", in->address_string);
    else if (in->address_id && *in->address_id)
        snprintf(address, sizeof address, "address_id %s", in->address_id);

    order_report_input r;
    memset(&r, 0, sizeof r);
    r.category_code = in->service_code;
    r.description = d.s;
    r.has_location = in->has_location;
    r.lat = in->lat;
    r.lng = in->lng;
    r.address = address[0] ? address : NULL;
    /* An address alone cannot be located (no geocoder): file it under the
     * county's root grid, and the centre places it. */
    char root[64] = "";
    if (!in->has_location) {
        db *rd = store_reader(st);
        if (rd) {
            db_stmt *q = db_query(rd,
                                  "SELECT code FROM grids WHERE parent_id IS NULL AND "
                                  "status = 'active' ORDER BY id LIMIT 1",
                                  "");
            if (q && db_step(q) == DB_ROW && db_col_text(q, 0))
                snprintf(root, sizeof root, "%s", db_col_text(q, 0));
            db_done(q);
            store_release(st, rd);
        }
        if (!root[0]) {
            wbuf_free(&d);
            return post_error(e, W_EBADREQ, "missing_location",
                              "lat and long are required: this deployment has no grid to file "
                              "an address under");
        }
        r.grid_code = root;
    }
    r.channel = "open311";
    r.urgency = "normal";
    r.phone = in->phone && *in->phone ? in->phone : NULL;
    r.name = name[0] ? name : NULL;
    json_t *order = NULL;
    int created = 0;
    int rc = order_report(st, who, a, &r, &order, &created, e);
    wbuf_free(&d);
    if (rc != WOK)
        return rc;
    json_t *id = json_object_get(order, "id");
    /* What GeoReport adds and a work order has no column for: in the
     * audit trail, beside the order's own entry. */
    struct o311_audit_ctx ac = {a, json_integer_value(id), in};
    if (created)
        store_write(st, o311_audit_tx, &ac);
    const char *code = json_string_value(json_object_get(order, "code"));
    char idbuf[24];
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)json_integer_value(id));
    char notice[200];
    snprintf(notice, sizeof notice, "已受理，查询码 %s (received; tracking code %s)",
             code ? code : "", code ? code : "");
    *out = json_pack("[{s:s, s:s?, s:s, s:s?}]", "service_request_id", idbuf, "token", code,
                     "service_notice", notice, "account_id",
                     in->account_id && *in->account_id ? in->account_id : NULL);
    json_decref(order);
    return *out ? WOK : werr_set(e, W_EINTERNAL, "internal", "cannot build the answer");
}

/* ---- GET requests ------------------------------------------------------------------- */

/* Whistle's states, as GeoReport's two: closed when the matter is over
 * (closed, rated, resolved on the spot, rejected, merged). */
static int state_closed(const char *state)
{
    switch (order_state_parse(state ? state : "")) {
    case OS_REJECTED:
    case OS_MERGED:
    case OS_ONSITE:
    case OS_CLOSED:
    case OS_RATED:
        return 1;
    default:
        return 0;
    }
}

#define REQ_COLS                                                                                   \
    "o.id, o.code, o.state, o.category_code, o.description, o.address, o.lat, o.lng, "             \
    "o.grid_code, o.lead_dept_id, o.assist_depts, o.reporter_id, o.created_at, o.updated_at, "     \
    "o.deadline, dp.name, o.pending"

/* One row as a GeoReport request; NULL when who may not see it. */
static json_t *request_row(db_stmt *s, const principal *who, const catalog *c)
{
    const char *grid = db_col_text(s, 8);
    int64_t lead = db_col_int64(s, 9);
    const char *assist = db_col_text(s, 10);
    int64_t reporter = db_col_int64(s, 11);
    int full = who && order_visible(who, grid, lead, assist, reporter);
    if (who && !full)
        return NULL;
    const char *state = db_col_text(s, 2);
    const char *cat_code = db_col_text(s, 3);
    const struct cat_category *cat = c && cat_code ? catalog_find(c, cat_code) : NULL;
    char id[24], req[32], upd[32], exp[32];
    snprintf(id, sizeof id, "%lld", (long long)db_col_int64(s, 0));
    clock_format_local(db_col_int64(s, 12), req);
    clock_format_local(db_col_int64(s, 13), upd);
    int has_deadline = !db_col_is_null(s, 14) && db_col_int64(s, 14) > 0;
    if (has_deadline)
        clock_format_local(db_col_int64(s, 14), exp);
    int closed = state_closed(state);
    const char *zh = order_state_zh(order_state_parse(state));
    char notes[160];
    snprintf(notes, sizeof notes, "%s (%s)%s", zh ? zh : "", state ? state : "",
             db_col_text(s, 16) ? (strcmp(db_col_text(s, 16), "return") == 0
                                       ? " · 退单申请中 (return requested)"
                                       : " · 延期申请中 (extension requested)")
                                : "");
    char notice[160] = "";
    if (!closed && has_deadline)
        snprintf(notice, sizeof notice, "办结时限 %s (to be completed by then)", exp);
    else if (!closed)
        snprintf(notice, sizeof notice, "等待受理 (waiting for the centre)");
    json_t *o = json_object();
    json_object_set_new(o, "service_request_id", json_string(id));
    json_object_set_new(o, "status", json_string(closed ? "closed" : "open"));
    json_object_set_new(o, "status_notes", json_string(notes));
    json_object_set_new(o, "service_name", cat && cat->name ? json_string(cat->name) : json_null());
    json_object_set_new(o, "service_code", cat_code ? json_string(cat_code) : json_null());
    json_object_set_new(o, "description",
                        full && db_col_text(s, 4) ? json_string(db_col_text(s, 4)) : json_null());
    json_object_set_new(o, "agency_responsible",
                        db_col_text(s, 15) ? json_string(db_col_text(s, 15)) : json_null());
    json_object_set_new(o, "service_notice", notice[0] ? json_string(notice) : json_null());
    json_object_set_new(o, "requested_datetime", json_string(req));
    json_object_set_new(o, "updated_datetime", json_string(upd));
    json_object_set_new(o, "expected_datetime", has_deadline ? json_string(exp) : json_null());
    json_object_set_new(o, "address",
                        full && db_col_text(s, 5) ? json_string(db_col_text(s, 5)) : json_null());
    json_object_set_new(o, "address_id", json_null());
    json_object_set_new(o, "zipcode", json_null());
    if (!db_col_is_null(s, 6) && !db_col_is_null(s, 7)) {
        double lat = db_col_double(s, 6), lng = db_col_double(s, 7);
        if (!full) { /* the public view: about 100 m */
            lat = round(lat * 1000) / 1000;
            lng = round(lng * 1000) / 1000;
        }
        json_object_set_new(o, "lat", json_real(lat));
        json_object_set_new(o, "long", json_real(lng));
    } else {
        json_object_set_new(o, "lat", json_null());
        json_object_set_new(o, "long", json_null());
    }
    const char *media =
        full && db_col_text(s, 4) ? strstr(db_col_text(s, 4), "【media_url】") : NULL;
    if (media) {
        media += strlen("【media_url】");
        size_t n = strcspn(media, "\n");
        json_object_set_new(o, "media_url", json_stringn(media, n));
    } else {
        json_object_set_new(o, "media_url", json_null());
    }
    return o;
}

/* 1 when s is in the comma-separated list. */
static int in_csv(const char *list, const char *s)
{
    if (!list || !s)
        return 0;
    size_t n = strlen(s);
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && *p == ' ') {
            p++;
            len--;
        }
        while (len && p[len - 1] == ' ')
            len--;
        if (len == n && strncmp(p, s, n) == 0)
            return 1;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

static int requests_read(db *d, const principal *who, const o311_query *q, const catalog *c,
                         json_t *arr, werr *e)
{
    int limit = q->limit > 0 && q->limit <= 1000 ? q->limit : 1000;
    db_stmt *s;
    if (q->ids && *q->ids) {
        /* The id list overrides every other filter (the spec says so). */
        const char *p = q->ids;
        for (int n = 0; *p; n++) {
            char *end;
            long long id = strtoll(p, &end, 10);
            if (end == p || id < 1 || n >= 100 || (*end && *end != ','))
                return werr_set(e, W_EBADREQ, "bad_field",
                                "service_request_id: a comma-separated list of at most 100 ids");
            s = db_query(d,
                         "SELECT " REQ_COLS " FROM orders o LEFT JOIN departments dp ON "
                         "dp.id = o.lead_dept_id WHERE o.id = ?",
                         "I", (int64_t)id);
            if (s && db_step(s) == DB_ROW) {
                json_t *o = request_row(s, who, c);
                if (o)
                    json_array_append_new(arr, o);
            }
            db_done(s);
            p = *end ? end + 1 : end;
        }
        return WOK;
    }
    int64_t end = q->has_end ? q->end : clock_now() + 1;
    int64_t start = q->has_start ? q->start : end - 90 * 86400;
    if (start > end)
        return werr_set(e, W_EBADREQ, "bad_date", "start_date is after end_date");
    int any = !q->status || !*q->status;
    int want_open = any || in_csv(q->status, "open");
    int want_closed = any || in_csv(q->status, "closed");
    if (!want_open && !want_closed)
        return werr_set(e, W_EBADREQ, "bad_field", "status: open, closed or open,closed");
    int64_t self = who && who->scope_kind == SCOPE_SELF ? who->user_id : 0;
    s = db_query(d,
                 "SELECT " REQ_COLS " FROM orders o LEFT JOIN departments dp ON "
                 "dp.id = o.lead_dept_id WHERE o.created_at >= ? AND o.created_at <= ? "
                 "AND (? = 0 OR o.reporter_id = ?) ORDER BY o.created_at DESC, o.id DESC",
                 "IIII", start, end, self, self);
    if (!s)
        return werr_set(e, W_EINTERNAL, "database_error", "cannot read requests");
    int n = 0;
    while (n < limit && db_step(s) == DB_ROW) {
        int closed = state_closed(db_col_text(s, 2));
        if ((closed && !want_closed) || (!closed && !want_open))
            continue;
        if (q->service_code && *q->service_code && !in_csv(q->service_code, db_col_text(s, 3)))
            continue;
        json_t *o = request_row(s, who, c);
        if (!o)
            continue;
        json_array_append_new(arr, o);
        n++;
    }
    db_done(s);
    return WOK;
}

int o311_requests(store *st, const principal *who, const o311_query *q, json_t **out, werr *e)
{
    catalog *c = catalog_current(st);
    db *d = store_reader(st);
    if (!d) {
        if (c)
            catalog_release(c);
        return werr_set(e, W_EBUSY, "database_unavailable", "database unavailable");
    }
    json_t *arr = json_array();
    int rc = requests_read(d, who, q, c, arr, e);
    store_release(st, d);
    if (c)
        catalog_release(c);
    if (rc != WOK) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return WOK;
}

int o311_token(store *st, const char *token, json_t **out, werr *e)
{
    db *d = store_reader(st);
    if (!d)
        return werr_set(e, W_EBUSY, "database_unavailable", "database unavailable");
    db_stmt *s = db_query(d, "SELECT id, code FROM orders WHERE code = ?", "t", token);
    int found = s && db_step(s) == DB_ROW;
    char id[24] = "";
    if (found)
        snprintf(id, sizeof id, "%lld", (long long)db_col_int64(s, 0));
    db_done(s);
    store_release(st, d);
    if (!found)
        return werr_set(e, W_ENOTFOUND, "not_found", "token %s not found", token);
    *out = json_pack("[{s:s, s:s}]", "service_request_id", id, "token", token);
    return WOK;
}
