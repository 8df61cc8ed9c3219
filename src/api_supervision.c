/*
 * api_supervision.c — supervision notices (督办单) and deductions:
 * list/get (supervision.read: departments see their own, inspectors and
 * the centre everything), answer (supervision.answer: the department),
 * close and manual issue (supervision.write: the centre). Domain logic in
 * supervision.c.
 */
#include <stdint.h>

#include "api.h"
#include "audit.h"
#include "clock.h"
#include "supervision.h"
#include "validate.h"

static const char *const notice_states[] = {"issued", "answered", "closed", NULL};
static const char *const notice_kinds[] = {"overdue_completion", "late_signing",
                                           "repeated_returns", "manual", NULL};
static const char *const deduction_kinds[] = {"improper_whistle", "late_signing",
                                              "repeated_returns", "overdue_completion", NULL};

void h_supervision_list(http_req *r, http_resp *w)
{
    werr e = {0};
    supervision_query q = {0};
    int64_t limit = 50;
    if (qfield_enum(r, "state", FIELD_OPTIONAL, notice_states, &q.state, &e) != WOK ||
        qfield_enum(r, "kind", FIELD_OPTIONAL, notice_kinds, &q.kind, &e) != WOK ||
        qfield_int(r, "dept_id", FIELD_OPTIONAL, 1, INT64_MAX, &q.dept_id, &e) != WOK ||
        qfield_int(r, "order_id", FIELD_OPTIONAL, 1, INT64_MAX, &q.order_id, &e) != WOK ||
        qfield_int(r, "cursor", FIELD_OPTIONAL, 1, INT64_MAX, &q.before_id, &e) != WOK ||
        qfield_int(r, "limit", FIELD_OPTIONAL, 1, 500, &limit, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    q.limit = (int)limit;
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *out = NULL;
    int rc = supervision_list(d, r->who, &q, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

void h_supervision_get(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id;
    if (param_id(r, "id", &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *out = NULL;
    int rc = supervision_get(d, r->who, id, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

static void respond_notice(http_req *r, http_resp *w, int64_t id)
{
    werr e = {0};
    db *d = store_reader(r->st);
    json_t *out = NULL;
    int rc = d ? supervision_get(d, r->who, id, &out, &e) : W_EBUSY;
    store_release(r->st, d);
    if (rc != WOK)
        resp_json(w, 200, json_pack("{s:b, s:I}", "ok", 1, "id", (json_int_t)id));
    else
        resp_json(w, 200, out);
}

void h_supervision_answer(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id;
    const char *answer = NULL;
    if (param_id(r, "id", &id, &e) != WOK ||
        jfield_multiline(r->json, "answer", FIELD_REQUIRED, 2, 2000, &answer, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    if (supervision_answer(r->st, r->who, &a, id, answer, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    respond_notice(r, w, id);
}

void h_supervision_close(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id;
    const char *note = NULL;
    if (param_id(r, "id", &id, &e) != WOK ||
        jfield_multiline(r->json, "note", FIELD_OPTIONAL, 1, 2000, &note, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    if (supervision_close(r->st, r->who, &a, id, note, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    respond_notice(r, w, id);
}

void h_supervision_issue(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t order_id = 0, hours = SUPERVISION_DEFAULT_ANSWER_HOURS;
    const char *reason = NULL;
    if (jfield_int(r->json, "order_id", FIELD_REQUIRED, 1, INT64_MAX, &order_id, &e) != WOK ||
        jfield_multiline(r->json, "reason", FIELD_REQUIRED, 2, 1000, &reason, &e) != WOK ||
        jfield_int(r->json, "answer_hours", FIELD_OPTIONAL, 1, 24 * 90, &hours, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    json_t *out = NULL;
    if (supervision_issue(r->st, r->who, &a, order_id, reason, hours, &out, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 201, out);
}

static int parse_time(http_req *r, http_resp *w, const char *key, int64_t *out)
{
    werr e = {0};
    const char *v = NULL;
    if (qfield_text(r, key, FIELD_OPTIONAL, 40, &v, &e) != WOK) {
        resp_werr(w, &e);
        return -1;
    }
    if (v && clock_parse(v, out) != 0) {
        resp_error(w, 422, "invalid_query", "%s: not a date or time (RFC 3339)", key);
        return -1;
    }
    return 0;
}

void h_deductions_list(http_req *r, http_resp *w)
{
    werr e = {0};
    deduction_query q = {0};
    int64_t limit = 50;
    if (qfield_enum(r, "kind", FIELD_OPTIONAL, deduction_kinds, &q.kind, &e) != WOK ||
        qfield_int(r, "dept_id", FIELD_OPTIONAL, 1, INT64_MAX, &q.dept_id, &e) != WOK ||
        qfield_int(r, "cursor", FIELD_OPTIONAL, 1, INT64_MAX, &q.before_id, &e) != WOK ||
        qfield_int(r, "limit", FIELD_OPTIONAL, 1, 500, &limit, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    if (parse_time(r, w, "from", &q.from) != 0 || parse_time(r, w, "to", &q.to) != 0)
        return;
    q.limit = (int)limit;
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *out = NULL;
    int rc = deduction_list(d, r->who, &q, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}
