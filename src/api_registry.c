/*
 * api_registry.c — handlers for the registry (people, households, visits,
 * places), import/export and the roster. Input is validated here; scope
 * and privacy are applied by registry.c / roster.c from r->who.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "audit.h"
#include "import.h"
#include "registry.h"
#include "roster.h"
#include "validate.h"

#define WITH_READER(d)                                                                           \
    db *d = req_reader(r, w);                                                                    \
    if (!d)                                                                                      \
        return

/* ---- people -------------------------------------------------------------------- */

void h_people_search(http_req *r, http_resp *w)
{
    werr e = {0};
    person_query q = {0};
    int64_t limit = 50, hh = 0;
    if (qfield_text(r, "q", FIELD_OPTIONAL, 64, &q.q, &e) != WOK ||
        qfield_text(r, "name", FIELD_OPTIONAL, 64, &q.name, &e) != WOK ||
        qfield_text(r, "id_number", FIELD_OPTIONAL, 20, &q.id_number, &e) != WOK ||
        qfield_text(r, "phone", FIELD_OPTIONAL, 20, &q.phone, &e) != WOK ||
        qfield_text(r, "address", FIELD_OPTIONAL, 100, &q.address, &e) != WOK ||
        qfield_text(r, "grid", FIELD_OPTIONAL, 63, &q.grid, &e) != WOK ||
        qfield_text(r, "tag", FIELD_OPTIONAL, 40, &q.tag, &e) != WOK ||
        qfield_text(r, "residence", FIELD_OPTIONAL, 20, &q.residence, &e) != WOK ||
        qfield_int(r, "household_id", FIELD_OPTIONAL, 1, INT64_MAX, &hh, &e) != WOK ||
        qfield_int(r, "cursor", FIELD_OPTIONAL, 0, INT64_MAX, &q.cursor, &e) != WOK ||
        qfield_int(r, "limit", FIELD_OPTIONAL, 1, 500, &limit, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    q.household_id = hh;
    q.limit = (int)limit;
    if ((q.id_number || q.phone || (q.q && strspn(q.q, "0123456789Xx+- ") == strlen(q.q))) &&
        vault_ensure(r->st, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    WITH_READER(d);
    json_t *out = NULL;
    int rc = reg_person_search(d, r->who, &q, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

static void person_from_json(json_t *j, person_input *in, werr *e, int *rc)
{
    int64_t hh = 0;
    const char *tags = NULL;
    json_t *tj = json_object_get(j, "tags");
    if ((*rc = jfield_text(j, "name", FIELD_REQUIRED, 1, 64, &in->name, e)) ||
        (*rc = jfield_text(j, "gender", FIELD_OPTIONAL, 0, 10, &in->gender, e)) ||
        (*rc = jfield_text(j, "birth_date", FIELD_OPTIONAL, 0, 20, &in->birth_date, e)) ||
        (*rc = jfield_text(j, "id_number", FIELD_OPTIONAL, 0, 30, &in->id_number, e)) ||
        (*rc = jfield_text(j, "phone", FIELD_OPTIONAL, 0, 24, &in->phone, e)) ||
        (*rc = jfield_text(j, "residence", FIELD_OPTIONAL, 0, 20, &in->residence, e)) ||
        (*rc = jfield_text(j, "relation", FIELD_OPTIONAL, 0, 20, &in->relation, e)) ||
        (*rc = jfield_text(j, "ethnicity", FIELD_OPTIONAL, 0, 20, &in->ethnicity, e)) ||
        (*rc = jfield_text(j, "political", FIELD_OPTIONAL, 0, 20, &in->political, e)) ||
        (*rc = jfield_text(j, "hukou_address", FIELD_OPTIONAL, 0, 200, &in->hukou_address, e)) ||
        (*rc = jfield_text(j, "workplace", FIELD_OPTIONAL, 0, 100, &in->workplace, e)) ||
        (*rc = jfield_text(j, "status", FIELD_OPTIONAL, 0, 20, &in->status, e)) ||
        (*rc = jfield_multiline(j, "note", FIELD_OPTIONAL, 0, 500, &in->note, e)) ||
        (*rc = jfield_int(j, "household_id", FIELD_OPTIONAL, 1, INT64_MAX, &hh, e)) ||
        (*rc = jfield_text(j, "grid", FIELD_OPTIONAL, 1, 64, &in->grid, e)) ||
        (*rc = jfield_text(j, "street", FIELD_OPTIONAL, 0, 120, &in->street, e)) ||
        (*rc = jfield_text(j, "compound", FIELD_OPTIONAL, 0, 120, &in->compound, e)) ||
        (*rc = jfield_text(j, "building", FIELD_OPTIONAL, 0, 30, &in->building, e)) ||
        (*rc = jfield_text(j, "unit", FIELD_OPTIONAL, 0, 30, &in->unit, e)) ||
        (*rc = jfield_text(j, "room", FIELD_OPTIONAL, 0, 30, &in->room, e)))
        return;
    in->household_id = hh;
    /* tags: an array of codes or labels, or one string */
    if (tj && json_is_array(tj)) {
        size_t i, len = 0;
        json_t *t;
        char *buf = malloc(1024);
        if (!buf) {
            *rc = werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
            return;
        }
        buf[0] = '\0';
        json_array_foreach(tj, i, t)
        {
            if (!json_is_string(t) || json_string_length(t) > 40) {
                free(buf);
                *rc = werr_set(e, W_EINVALID, "invalid_field", "tags[%zu]: a care tag", i);
                return;
            }
            len += (size_t)snprintf(buf + len, 1024 - len, "%s%s", i ? "," : "",
                                    json_string_value(t));
            if (len >= 1000)
                break;
        }
        in->tags = buf; /* freed by the caller (person_input_free) */
    } else if ((*rc = jfield_text(j, "tags", FIELD_OPTIONAL, 0, 300, &tags, e)) == WOK && tags) {
        in->tags = strdup(tags);
    }
}

void h_people_create(http_req *r, http_resp *w)
{
    werr e = {0};
    person_input in = {0};
    int rc;
    person_from_json(r->json, &in, &e, &rc);
    if (rc != WOK) {
        free((char *)in.tags);
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    int64_t id = 0;
    int what = 0;
    rc = reg_person_save(r->st, &a, r->who, &in, &id, &what, &e);
    free((char *)in.tags);
    if (rc != WOK) {
        resp_werr(w, &e);
        return;
    }
    json_t *out = NULL;
    if (reg_person_get(r->st, &a, r->who, id, 0, &out, &e) != WOK)
        out = json_pack("{s:I}", "id", (json_int_t)id);
    json_object_set_new(out, "result",
                        json_string(what == REG_CREATED   ? "created"
                                    : what == REG_UPDATED ? "updated"
                                                          : "unchanged"));
    resp_json(w, what == REG_CREATED ? 201 : 200, out);
}

void h_people_get(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id, unmask = 0;
    if (param_id(r, "id", &id, &e) != WOK ||
        qfield_int(r, "unmask", FIELD_OPTIONAL, 0, 1, &unmask, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    /* the full ID number and phone need their own permission (and are audited) */
    if (unmask && !perm_allows(r->who->role, "registry.unmask")) {
        resp_error(w, 403, "forbidden", "你没有查看完整证件号码和电话的权限 (permission "
                                        "registry.unmask is required to unmask)");
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    json_t *out = NULL;
    int rc = reg_person_get(r->st, &a, r->who, id, (int)unmask, &out, &e);
    resp_result(w, rc, 200, out, &e);
}

/* ---- households and visits ------------------------------------------------------- */

void h_households_search(http_req *r, http_resp *w)
{
    werr e = {0};
    household_query q = {0};
    int64_t limit = 50;
    if (qfield_text(r, "address", FIELD_OPTIONAL, 100, &q.address, &e) != WOK ||
        qfield_text(r, "grid", FIELD_OPTIONAL, 63, &q.grid, &e) != WOK ||
        qfield_int(r, "cursor", FIELD_OPTIONAL, 0, INT64_MAX, &q.cursor, &e) != WOK ||
        qfield_int(r, "limit", FIELD_OPTIONAL, 1, 500, &limit, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    q.limit = (int)limit;
    WITH_READER(d);
    json_t *out = NULL;
    int rc = reg_household_search(d, r->who, &q, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

void h_households_create(http_req *r, http_resp *w)
{
    werr e = {0};
    person_input in = {0};
    const char *kind = NULL, *head = NULL, *note = NULL;
    if (jfield_text(r->json, "grid", FIELD_OPTIONAL, 1, 64, &in.grid, &e) != WOK ||
        jfield_text(r->json, "street", FIELD_OPTIONAL, 0, 120, &in.street, &e) != WOK ||
        jfield_text(r->json, "compound", FIELD_OPTIONAL, 0, 120, &in.compound, &e) != WOK ||
        jfield_text(r->json, "building", FIELD_OPTIONAL, 0, 30, &in.building, &e) != WOK ||
        jfield_text(r->json, "unit", FIELD_OPTIONAL, 0, 30, &in.unit, &e) != WOK ||
        jfield_text(r->json, "room", FIELD_OPTIONAL, 0, 30, &in.room, &e) != WOK ||
        jfield_text(r->json, "kind", FIELD_OPTIONAL, 1, 20, &kind, &e) != WOK ||
        jfield_text(r->json, "head_name", FIELD_OPTIONAL, 0, 64, &head, &e) != WOK ||
        jfield_multiline(r->json, "note", FIELD_OPTIONAL, 0, 500, &note, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    int64_t id = 0;
    int what = 0;
    if (reg_household_save(r->st, &a, r->who, &in, kind, head, note, &id, &what, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    WITH_READER(d);
    json_t *out = NULL;
    int rc = reg_household_get(d, r->who, id, &out, &e);
    store_release(r->st, d);
    if (rc == WOK)
        json_object_set_new(out, "result", json_string(what == REG_CREATED ? "created"
                                                       : what == REG_UPDATED ? "updated"
                                                                             : "unchanged"));
    resp_result(w, rc, what == REG_CREATED ? 201 : 200, out, &e);
}

void h_households_get(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id;
    if (param_id(r, "id", &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    WITH_READER(d);
    json_t *out = NULL;
    int rc = reg_household_get(d, r->who, id, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

void h_visits_create(http_req *r, http_resp *w)
{
    werr e = {0};
    visit_input in = {0};
    if (param_id(r, "id", &in.household_id, &e) != WOK ||
        jfield_int(r->json, "person_id", FIELD_OPTIONAL, 1, INT64_MAX, &in.person_id, &e) !=
            WOK ||
        jfield_text(r->json, "visited_at", FIELD_OPTIONAL, 1, 40, &in.visited_at, &e) != WOK ||
        jfield_multiline(r->json, "findings", FIELD_REQUIRED, 1, 2000, &in.findings, &e) != WOK ||
        jfield_multiline(r->json, "needs", FIELD_OPTIONAL, 0, 2000, &in.needs, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    int64_t id = 0;
    if (reg_visit_add(r->st, &a, r->who, &in, &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 201, json_pack("{s:I, s:I}", "id", (json_int_t)id, "household_id",
                                (json_int_t)in.household_id));
}

void h_visits_list(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id;
    if (param_id(r, "id", &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    WITH_READER(d);
    json_t *hh = NULL, *out = NULL;
    int rc = reg_household_get(d, r->who, id, &hh, &e); /* scope and existence */
    json_decref(hh);
    if (rc == WOK)
        rc = reg_visit_list(d, r->who, id, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

void h_visits_due(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *tag = NULL, *grid = NULL;
    int64_t days = 0, cursor = 0, limit = 50;
    if (qfield_text(r, "tag", FIELD_OPTIONAL, 40, &tag, &e) != WOK ||
        qfield_text(r, "grid", FIELD_OPTIONAL, 63, &grid, &e) != WOK ||
        qfield_int(r, "interval_days", FIELD_OPTIONAL, 1, 3650, &days, &e) != WOK ||
        qfield_int(r, "cursor", FIELD_OPTIONAL, 0, INT64_MAX, &cursor, &e) != WOK ||
        qfield_int(r, "limit", FIELD_OPTIONAL, 1, 500, &limit, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    WITH_READER(d);
    json_t *out = NULL;
    int rc = reg_visits_due(d, r->who, tag, (int)days, grid, cursor, (int)limit, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

/* ---- places ------------------------------------------------------------------------- */

static const reg_kind *kind_param(http_req *r, http_resp *w)
{
    const reg_kind *k = reg_kind_find(req_param(r, "kind"));
    if (!k)
        resp_error(w, 404, "not_found",
                   "no registry kind '%.40s' (buildings, organisations, enterprises, facilities)",
                   req_param(r, "kind") ? req_param(r, "kind") : "");
    return k;
}

void h_places_search(http_req *r, http_resp *w)
{
    werr e = {0};
    const reg_kind *k = kind_param(r, w);
    if (!k)
        return;
    const char *q = NULL, *grid = NULL;
    int64_t cursor = 0, limit = 50;
    if (qfield_text(r, "q", FIELD_OPTIONAL, 100, &q, &e) != WOK ||
        qfield_text(r, "grid", FIELD_OPTIONAL, 63, &grid, &e) != WOK ||
        qfield_int(r, "cursor", FIELD_OPTIONAL, 0, INT64_MAX, &cursor, &e) != WOK ||
        qfield_int(r, "limit", FIELD_OPTIONAL, 1, 500, &limit, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    WITH_READER(d);
    json_t *out = NULL;
    int rc = reg_place_search(d, r->who, k, q, grid, cursor, (int)limit, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

void h_places_create(http_req *r, http_resp *w)
{
    werr e = {0};
    const reg_kind *k = kind_param(r, w);
    if (!k)
        return;
    audit_actor a;
    req_actor(r, &a);
    int64_t id = 0;
    if (reg_place_save(r->st, &a, r->who, k, r->json, &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    WITH_READER(d);
    json_t *out = NULL;
    int rc = reg_place_get(d, r->who, k, id, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 201, out, &e);
}

void h_places_get(http_req *r, http_resp *w)
{
    werr e = {0};
    const reg_kind *k = kind_param(r, w);
    if (!k)
        return;
    int64_t id;
    if (param_id(r, "id", &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    WITH_READER(d);
    json_t *out = NULL;
    int rc = reg_place_get(d, r->who, k, id, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

/* ---- import and export --------------------------------------------------------------- */

void h_import(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *kind = req_param(r, "kind");
    int64_t dry = 0;
    if (qfield_int(r, "dry_run", FIELD_OPTIONAL, 0, 1, &dry, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    if (!import_kind_known(kind)) {
        resp_error(w, 404, "not_found", "no import kind '%.40s'", kind ? kind : "");
        return;
    }
    if (!r->body || r->body_len == 0) {
        resp_error(w, 400, "empty_body", "send the CSV file as the request body (text/csv)");
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    json_t *report = NULL;
    if (import_registry(r->st, &a, r->who, kind, r->body, r->body_len, (int)dry, "api", &report,
                        &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    if (!dry && !json_is_true(json_object_get(report, "committed"))) {
        json_t *err = json_pack(
            "{s:s, s:s}", "code", "import_rejected", "message",
            "有错误行，未导入任何数据 (bad rows: nothing was imported; see report.errors)");
        resp_json(w, 422, json_pack("{s:o, s:o}", "error", err, "report", report));
        return;
    }
    resp_json(w, 200, report);
}

void h_export(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *kind = req_param(r, "kind"), *format = "csv";
    int64_t unmask = 0;
    static const char *const formats[] = {"csv", "xlsx", NULL};
    if (qfield_enum(r, "format", FIELD_OPTIONAL, formats, &format, &e) != WOK ||
        qfield_int(r, "unmask", FIELD_OPTIONAL, 0, 1, &unmask, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    if (!import_kind_known(kind)) {
        resp_error(w, 404, "not_found", "no export kind '%.40s'", kind ? kind : "");
        return;
    }
    if (unmask && !perm_allows(r->who->role, "registry.unmask")) {
        resp_error(w, 403, "forbidden", "permission registry.unmask is required to unmask");
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    int64_t rows = 0;
    char disp[128];
    snprintf(disp, sizeof disp, "attachment; filename=\"%s.%s\"", kind, format);
    if (!strcmp(format, "csv")) {
        wbuf b = WBUF_INIT;
        if (import_export_csv(r->st, &a, r->who, kind, (int)unmask, &b, &rows, &e) != WOK) {
            wbuf_free(&b);
            resp_werr(w, &e);
            return;
        }
        size_t len;
        char *s = wbuf_steal(&b, &len);
        resp_bytes(w, 200, "text/csv; charset=utf-8", s, len);
    } else {
        char path[] = "/tmp/whistle-export-XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0) {
            resp_error(w, 500, "write_failed", "cannot create a temporary file");
            return;
        }
        close(fd);
        int rc = import_export_xlsx(r->st, &a, r->who, kind, (int)unmask, path, &rows, &e);
        FILE *f = rc == WOK ? fopen(path, "rb") : NULL;
        char *buf = NULL;
        long n = 0;
        if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
            (buf = malloc((size_t)n)) && fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        }
        if (f)
            fclose(f);
        unlink(path);
        if (rc != WOK) {
            resp_werr(w, &e);
            return;
        }
        if (!buf) {
            resp_error(w, 500, "write_failed", "cannot read the workbook back");
            return;
        }
        resp_bytes(w, 200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   buf, (size_t)n);
    }
    resp_header(w, "Content-Disposition", disp);
    char cnt[24];
    snprintf(cnt, sizeof cnt, "%lld", (long long)rows);
    resp_header(w, "X-Rows", cnt);
}

/* ---- roster ---------------------------------------------------------------------------- */

void h_roster_list(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *grid = NULL, *duty = NULL;
    if (qfield_text(r, "grid", FIELD_OPTIONAL, 63, &grid, &e) != WOK ||
        qfield_text(r, "duty", FIELD_OPTIONAL, 40, &duty, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    WITH_READER(d);
    json_t *out = NULL;
    int rc = roster_staff_list(d, r->who, grid, duty, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

void h_dept_contacts_list(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id;
    if (param_id(r, "id", &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    WITH_READER(d);
    json_t *out = NULL;
    int rc = roster_contacts(d, id, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

void h_dept_contacts_create(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id, cid = 0;
    const char *name = NULL, *title = NULL, *phone = NULL;
    if (param_id(r, "id", &id, &e) != WOK ||
        jfield_text(r->json, "name", FIELD_REQUIRED, 1, 64, &name, &e) != WOK ||
        jfield_text(r->json, "title", FIELD_OPTIONAL, 0, 64, &title, &e) != WOK ||
        jfield_text(r->json, "phone", FIELD_OPTIONAL, 0, 20, &phone, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    if (roster_contact_add(r->st, &a, id, name, title, phone, &cid, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 201, json_pack("{s:I, s:I, s:s}", "id", (json_int_t)cid, "dept_id",
                                (json_int_t)id, "name", name));
}

void h_party_orgs_list(http_req *r, http_resp *w)
{
    werr e = {0};
    const char *grid = NULL;
    if (qfield_text(r, "grid", FIELD_OPTIONAL, 63, &grid, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    WITH_READER(d);
    json_t *out = NULL;
    int rc = party_org_list(d, r->who, grid, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

void h_party_orgs_create(http_req *r, http_resp *w)
{
    werr e = {0};
    party_org_input in = {0};
    if (jfield_int(r->json, "parent_id", FIELD_OPTIONAL, 1, INT64_MAX, &in.parent_id, &e) != WOK ||
        jfield_text(r->json, "grid", FIELD_OPTIONAL, 1, 64, &in.grid, &e) != WOK ||
        jfield_text(r->json, "level", FIELD_REQUIRED, 1, 40, &in.level, &e) != WOK ||
        jfield_text(r->json, "name", FIELD_REQUIRED, 1, 64, &in.name, &e) != WOK ||
        jfield_text(r->json, "secretary", FIELD_OPTIONAL, 0, 64, &in.secretary, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    int64_t id = 0;
    if (party_org_create(r->st, &a, r->who, &in, &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    WITH_READER(d);
    json_t *out = NULL;
    int rc = party_org_get(d, r->who, id, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 201, out, &e);
}

void h_party_orgs_get(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id;
    if (param_id(r, "id", &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    WITH_READER(d);
    json_t *out = NULL;
    int rc = party_org_get(d, r->who, id, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

void h_party_members_create(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t org, uid = 0, id = 0;
    const char *name = NULL, *phone = NULL, *role = NULL;
    if (param_id(r, "id", &org, &e) != WOK ||
        jfield_text(r->json, "name", FIELD_REQUIRED, 1, 64, &name, &e) != WOK ||
        jfield_text(r->json, "phone", FIELD_OPTIONAL, 0, 20, &phone, &e) != WOK ||
        jfield_int(r->json, "user_id", FIELD_OPTIONAL, 1, INT64_MAX, &uid, &e) != WOK ||
        jfield_text(r->json, "role", FIELD_OPTIONAL, 1, 40, &role, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    if (party_member_add(r->st, &a, r->who, org, name, phone, uid, role,
                         json_object_get(r->json, "households"), &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 201, json_pack("{s:I, s:I, s:s}", "id", (json_int_t)id, "org_id",
                                (json_int_t)org, "name", name));
}

void h_representatives_list(http_req *r, http_resp *w)
{
    werr e = {0};
    WITH_READER(d);
    json_t *out = NULL;
    int rc = representative_list(d, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

void h_representatives_create(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t uid = 0, id = 0;
    const char *name = NULL, *phone = NULL, *kind = NULL, *level = NULL, *grid = NULL;
    if (jfield_text(r->json, "name", FIELD_REQUIRED, 1, 64, &name, &e) != WOK ||
        jfield_text(r->json, "phone", FIELD_OPTIONAL, 0, 20, &phone, &e) != WOK ||
        jfield_int(r->json, "user_id", FIELD_OPTIONAL, 1, INT64_MAX, &uid, &e) != WOK ||
        jfield_text(r->json, "kind", FIELD_REQUIRED, 1, 40, &kind, &e) != WOK ||
        jfield_text(r->json, "level", FIELD_OPTIONAL, 0, 20, &level, &e) != WOK ||
        jfield_text(r->json, "grid", FIELD_OPTIONAL, 1, 64, &grid, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    if (representative_create(r->st, &a, name, phone, uid, kind, level, grid, &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 201, json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "name", name, "kind",
                                kind));
}
