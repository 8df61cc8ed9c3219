/*
 * webhook — delivery of outbox events (outbox.h) to the webhooks that
 * administrators configure: URL, secret, event filter. SMS gateways,
 * WeChat bridges and OA systems attach here (SPEC §4, issue 4 item 8).
 *
 * Delivery is at-least-once: a worker thread fans every new outbox event
 * out to the matching webhooks (one delivery row per webhook and event),
 * POSTs the JSON with an HMAC-SHA256 signature, marks the delivery done on
 * a 2xx answer, and otherwise retries with exponential backoff until
 * max_attempts, after which the delivery is a dead letter that an
 * administrator can see and retry. Receivers deduplicate on the event id
 * (X-Whistle-Event-Id), which stays the same across attempts: a receiver
 * that does so sees each event exactly once.
 *
 * Request sent to a webhook:
 *   POST <url>   Content-Type: application/json
 *   X-Whistle-Event: order.signed
 *   X-Whistle-Event-Id: <32 hex, the outbox event id>
 *   X-Whistle-Delivery: <delivery id>      X-Whistle-Attempt: <1, 2, ...>
 *   X-Whistle-Timestamp: <unix seconds>
 *   X-Whistle-Signature: sha256=<hex HMAC-SHA256(secret, timestamp "." body)>
 *   {"id":…, "event":…, "object_type":…, "object_id":…, "created_at":…, "data":{…}}
 */
#ifndef WHISTLE_WEBHOOK_H
#define WHISTLE_WEBHOOK_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "store.h"

/* Defaults of the settings (ops_settings.h). */
#define WEBHOOK_DEFAULT_MAX_ATTEMPTS 8
#define WEBHOOK_DEFAULT_BACKOFF_MS 30000 /* 30 s, 1 min, 2 min, … */
#define WEBHOOK_MAX_BACKOFF_MS 3600000   /* never wait more than an hour */
#define WEBHOOK_DEFAULT_TIMEOUT_MS 5000

typedef struct webhook_input {
    const char *url;         /* http://host[:port]/path */
    const char *secret;      /* NULL: generated (returned once) */
    json_t *events;          /* array of patterns: "*", "order.*", "order.signed"; NULL: ["*"] */
    const char *description;
    int64_t max_attempts;    /* 0: the setting webhook.max_attempts */
    int64_t backoff_ms;      /* 0: the setting webhook.backoff_ms */
} webhook_input;

/* 1 when pattern is "*", an event name, or "area.*". */
int webhook_valid_pattern(const char *pattern);
/* 1 when event matches one of the patterns (a JSON array). */
int webhook_filter_matches(json_t *patterns, const char *event);

/* The signature header value "sha256=<hex>" over "<ts>.<body>" into out. */
void webhook_sign(const char *secret, int64_t ts, const char *body, size_t len, char out[72]);

/* Creates a webhook; *out gets its JSON including the secret (shown once). */
int webhook_create(store *st, const audit_actor *a, const webhook_input *in, json_t **out,
                   werr *e);
/* Soft-deletes it and cancels its pending deliveries. */
int webhook_delete(store *st, const audit_actor *a, int64_t id, werr *e);
int webhook_list(db *d, json_t **out, werr *e);
/* Queues a "webhook.ping" event addressed to this webhook only. */
int webhook_ping(store *st, const audit_actor *a, int64_t id, json_t **out, werr *e);
/* Deliveries of one webhook, newest first; state NULL for all. */
int webhook_deliveries(db *d, int64_t webhook_id, const char *state, int64_t before_id, int limit,
                       json_t **out, werr *e);
/* Dead letters of all webhooks, newest first (cursor: before_id). */
int webhook_dead_letters(db *d, int64_t before_id, int limit, json_t **out, werr *e);
/* Puts a dead letter back in the queue, attempts counted from zero. */
int webhook_retry(store *st, const audit_actor *a, int64_t delivery_id, werr *e);

/* One round of the worker: fan out new events, deliver what is due.
 * Returns the number of deliveries attempted. Exposed for tests/tools. */
int webhook_round(store *st);

/* The delivery worker: a thread of its own (a slow receiver must not
 * delay the overdue scanner), started by `whistle serve` next to the jobs
 * runner and stopped after it. */
typedef struct webhook_worker webhook_worker;
webhook_worker *webhook_worker_start(store *st);
void webhook_worker_stop(webhook_worker *w);

#endif
