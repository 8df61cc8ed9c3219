/*
 * auth — who is calling. Browser sessions (HttpOnly SameSite cookie plus a
 * CSRF token), bearer tokens for API clients and devices, argon2id
 * passwords, lockout after five failed logins, and a per-address limit on
 * login attempts.
 */
#ifndef WHISTLE_AUTH_H
#define WHISTLE_AUTH_H

#include <jansson.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "perm.h"
#include "store.h"

#define AUTH_COOKIE "whistle_session"
#define AUTH_MAX_FAILURES 5
#define AUTH_LOCK_SECONDS (15 * 60)
#define AUTH_IDLE_SECONDS (30 * 60)          /* session expires after inactivity */
#define AUTH_SESSION_MAX_SECONDS (12 * 3600) /* and at the latest after a working day */

/* Checks the password and opens a session. On success fills token (the
 * cookie value, 64 hex) and p (including p->csrf). Failures are audited;
 * the fifth locks the account for AUTH_LOCK_SECONDS. */
int auth_login(store *st, const char *login, const char *password, const char *ip,
               const char *rid, char token[65], principal *p, werr *e);
int auth_logout(store *st, const principal *p, const audit_actor *a, werr *e);

/* Resolves the caller from an Authorization header value and/or a session
 * cookie value. No credentials: WOK with p->user_id == 0. Credentials
 * that do not check out: W_EUNAUTH. */
int auth_resolve(store *st, const char *authorization, const char *cookie, principal *p, werr *e);

/* Issues a bearer token for user_id; token receives "wt_" + 48 hex. */
int auth_token_issue(store *st, const audit_actor *a, int64_t user_id, const char *label,
                     int64_t expires_at, char token[64], int64_t *id, werr *e);
int auth_token_revoke(store *st, const audit_actor *a, int64_t token_id, werr *e);
int auth_token_list(db *d, json_t **out, werr *e);

/* Per-address login limiter: 1 when another attempt is allowed now. */
int auth_rate_allow(const char *ip);

json_t *principal_to_json(const principal *p);

#endif
