/*
 * api_webhook.c — administrators' view of notifications: webhooks (URL,
 * secret, event filter), their deliveries, and the dead letters
 * (permission "webhook.admin"). Domain logic lives in webhook.c.
 */
#include <stdint.h>

#include "api.h"
#include "audit.h"
#include "validate.h"
#include "webhook.h"

void h_webhooks_list(http_req *r, http_resp *w)
{
    werr e = {0};
    json_t *out = NULL;
    db *d = req_reader(r, w);
    if (!d)
        return;
    int rc = webhook_list(d, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

void h_webhooks_create(http_req *r, http_resp *w)
{
    werr e = {0};
    webhook_input in = {0};
    if (jfield_text(r->json, "url", FIELD_REQUIRED, 10, 2000, &in.url, &e) != WOK ||
        jfield_text(r->json, "secret", FIELD_OPTIONAL, 16, 200, &in.secret, &e) != WOK ||
        jfield_text(r->json, "description", FIELD_OPTIONAL, 0, 200, &in.description, &e) != WOK ||
        jfield_int(r->json, "max_attempts", FIELD_OPTIONAL, 1, 50, &in.max_attempts, &e) != WOK ||
        jfield_int(r->json, "backoff_ms", FIELD_OPTIONAL, 100, 3600000, &in.backoff_ms, &e) !=
            WOK) {
        resp_werr(w, &e);
        return;
    }
    json_t *events = json_object_get(r->json, "events");
    if (events) {
        if (!json_is_array(events) || json_array_size(events) > 32) {
            resp_error(w, 422, "invalid_field",
                       "events: expected an array of at most 32 patterns like \"order.*\"");
            return;
        }
        size_t i;
        json_t *v;
        json_array_foreach(events, i, v)
        {
            if (!json_is_string(v)) {
                resp_error(w, 422, "invalid_field", "events[%zu]: expected a string", i);
                return;
            }
        }
        in.events = events;
    }
    audit_actor a;
    req_actor(r, &a);
    json_t *out = NULL;
    if (webhook_create(r->st, &a, &in, &out, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 201, out);
}

void h_webhooks_delete(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id;
    if (param_id(r, "id", &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    if (webhook_delete(r->st, &a, id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 200, json_pack("{s:b}", "ok", 1));
}

void h_webhooks_ping(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id;
    if (param_id(r, "id", &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    json_t *out = NULL;
    if (webhook_ping(r->st, &a, id, &out, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 202, out);
}

static const char *const delivery_states[] = {"pending", "delivered", "dead", "cancelled", NULL};

void h_webhooks_deliveries(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id, cursor = 0, limit = 50;
    const char *state = NULL;
    if (param_id(r, "id", &id, &e) != WOK ||
        qfield_enum(r, "state", FIELD_OPTIONAL, delivery_states, &state, &e) != WOK ||
        qfield_int(r, "cursor", FIELD_OPTIONAL, 1, INT64_MAX, &cursor, &e) != WOK ||
        qfield_int(r, "limit", FIELD_OPTIONAL, 1, 500, &limit, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *out = NULL;
    int rc = webhook_deliveries(d, id, state, cursor, (int)limit, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

void h_webhooks_dead_letters(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t cursor = 0, limit = 50;
    if (qfield_int(r, "cursor", FIELD_OPTIONAL, 1, INT64_MAX, &cursor, &e) != WOK ||
        qfield_int(r, "limit", FIELD_OPTIONAL, 1, 500, &limit, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    db *d = req_reader(r, w);
    if (!d)
        return;
    json_t *out = NULL;
    int rc = webhook_dead_letters(d, cursor, (int)limit, &out, &e);
    store_release(r->st, d);
    resp_result(w, rc, 200, out, &e);
}

void h_webhooks_retry(http_req *r, http_resp *w)
{
    werr e = {0};
    int64_t id;
    if (param_id(r, "id", &id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    audit_actor a;
    req_actor(r, &a);
    if (webhook_retry(r->st, &a, id, &e) != WOK) {
        resp_werr(w, &e);
        return;
    }
    resp_json(w, 200, json_pack("{s:b, s:I}", "ok", 1, "delivery_id", (json_int_t)id));
}
