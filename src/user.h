/*
 * user — accounts (SPEC §1): staff, residents and devices, with a role and
 * a scope (a grid subtree, a department, or everything).
 */
#ifndef WHISTLE_USER_H
#define WHISTLE_USER_H

#include <jansson.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "store.h"

typedef struct user_input {
    const char *login;      /* 3–64 of [A-Za-z0-9._-] */
    const char *name;       /* display name, 1–64 chars */
    const char *phone;      /* optional */
    const char *role;       /* role_name() */
    const char *scope_kind; /* "all" | "grid" | "department" | "self"; NULL: from role */
    const char *scope_grid; /* grid code when scope_kind is grid */
    int64_t scope_dept;     /* department id when scope_kind is department */
    const char *password;   /* 8–128 chars; NULL for a device account */
} user_input;

/* Checks fields against their declared types and ranges. */
int user_validate(const user_input *in, werr *e);
int user_create(store *st, const audit_actor *a, const user_input *in, int64_t *id, werr *e);
int user_set_password(store *st, const audit_actor *a, int64_t id, const char *password, werr *e);
/* lock: 1 locks indefinitely (disabled), 0 unlocks and clears failures. */
int user_set_locked(store *st, const audit_actor *a, int64_t id, int lock, werr *e);
int user_id_by_login(store *st, const char *login, int64_t *id, werr *e);
/* JSON of one user (no secrets), or W_ENOTFOUND. */
int user_get(db *d, int64_t id, json_t **out, werr *e);
/* Users, optionally of one role, ordered by id; after_id is the cursor. */
int user_list(db *d, const char *role, int64_t after_id, int limit, json_t **out, werr *e);

#endif
