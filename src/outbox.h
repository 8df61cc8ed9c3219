/*
 * outbox — the transactional outbox of notifications (SPEC §4, issue 4
 * item 8). Every state change that someone should hear about (reporter,
 * department, inspector) is written here by outbox_emit() inside the SAME
 * write transaction as the change itself, so that a notification exists if
 * and only if the change committed. A background worker (webhook.c) later
 * fans each event out to the configured webhooks and delivers it with
 * retries; SMS or WeChat gateways attach there, never in the core.
 *
 * Each event gets a random, globally unique event id (32 hex chars) that
 * travels with every delivery attempt (header X-Whistle-Event-Id), so that
 * a receiver can drop the duplicates that at-least-once delivery implies.
 */
#ifndef WHISTLE_OUTBOX_H
#define WHISTLE_OUTBOX_H

#include <jansson.h>
#include <stdint.h>

#include "store.h"

/* Event names are "area.verb" in snake case, e.g. "order.signed",
 * "order.overdue", "supervision.issued": [a-z0-9_.]{3,64}. */
int outbox_valid_event(const char *event);

/*
 * Records one event. Call inside a store_write() callback (d is the writer
 * connection); the event commits or rolls back with the caller's changes.
 *   event        "order.dispatched"
 *   object_type  "order", "supervision", ...
 *   object_id    the object's id as text (may be NULL)
 *   payload      borrowed (not stolen); NULL is sent as {}. Keep it small:
 *                ids, codes, states, department — never personal data that
 *                a receiver outside the scope must not see (no phone or
 *                ID numbers).
 * Returns WOK, W_EINVALID for a malformed event name, or W_EINTERNAL.
 */
int outbox_emit(db *d, const char *event, const char *object_type, const char *object_id,
                json_t *payload);

/* As outbox_emit, at a given time (epoch seconds) and optionally already
 * fanned out (fanned = 1: no webhook will ever deliver it). Used by the
 * demo history, which records what happened without notifying anyone. */
int outbox_emit_at(db *d, const char *event, const char *object_type, const char *object_id,
                   json_t *payload, int64_t at, int fanned);

#endif
