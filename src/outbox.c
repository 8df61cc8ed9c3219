/*
 * outbox.c — see outbox.h. Kept deliberately small: it runs inside the
 * writer's transaction, so it only serialises the payload and inserts one
 * row. Fan-out to webhooks and delivery are the worker's job (webhook.c).
 */
#include "outbox.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "crypto.h"

int outbox_valid_event(const char *event)
{
    if (!event)
        return 0;
    size_t n = strlen(event);
    if (n < 3 || n > 64 || event[0] == '.' || event[n - 1] == '.')
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = event[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

int outbox_emit_at(db *d, const char *event, const char *object_type, const char *object_id,
                   json_t *payload, int64_t at, int fanned)
{
    if (!outbox_valid_event(event) || !object_type || !object_type[0])
        return W_EINVALID;
    char id[33];
    crypto_random_hex(id, 16);
    char when[32];
    clock_format(at, when);
    char *pj = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    int rc = db_exec(d,
                     "INSERT INTO outbox (event_id, event, object_type, object_id, payload, "
                     "created_at, fanned_out) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     "tttttti", id, event, object_type, object_id, pj ? pj : "{}", when,
                     fanned ? 1 : 0);
    free(pj);
    return rc == WOK ? WOK : W_EINTERNAL;
}

int outbox_emit(db *d, const char *event, const char *object_type, const char *object_id,
                json_t *payload)
{
    return outbox_emit_at(d, event, object_type, object_id, payload, clock_now(), 0);
}
