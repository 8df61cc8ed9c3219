/*
 * audit — the append-only record of every write: who, when, which object,
 * what changed, from which address and request. Call audit_record() inside
 * the same store_write() transaction as the change it records, so that the
 * change and its audit entry commit (or vanish) together.
 */
#ifndef WHISTLE_AUDIT_H
#define WHISTLE_AUDIT_H

#include <jansson.h>
#include <stdint.h>

#include "err.h"
#include "perm.h"
#include "store.h"

typedef struct audit_actor {
    int64_t user_id; /* 0: the system itself (background jobs, CLI) */
    char login[64];
    const char *role;
    char ip[64];
    char rid[40];
} audit_actor;

/* The actor for the CLI and background jobs. */
void audit_actor_system(audit_actor *a, const char *what);
void audit_actor_from(audit_actor *a, const principal *p, const char *ip, const char *rid);

/* Records one entry; detail (may be NULL) is borrowed. */
int audit_record(db *d, const audit_actor *a, const char *action, const char *object_type,
                 const char *object_id, json_t *detail);

typedef struct audit_query {
    const char *object_type;
    const char *object_id;
    int64_t user_id;     /* 0: any */
    const char *since;   /* RFC 3339, inclusive; NULL: any */
    const char *until;   /* exclusive */
    int64_t before_id;   /* cursor: entries with id < before_id; 0: newest */
    int limit;
} audit_query;

/* Newest first. Returns a JSON object {items:[...], next_cursor}. */
int audit_list(db *d, const audit_query *q, json_t **out, werr *e);

#endif
