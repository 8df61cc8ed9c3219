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
 * that do not check out: W_EUNAUTH. Only reads: when the session's idle
 * timer is due for its refresh (once a minute), p->touch_due is set and
 * the caller runs auth_touch, on a thread that may wait for the writer. */
int auth_resolve(store *st, const char *authorization, const char *cookie, principal *p, werr *e);
/* Records p->touch_due as the session's last activity (nothing to do when
 * it is 0). A failure only means the refresh waits for the next request. */
int auth_touch(store *st, int64_t session_id, int64_t touch_due);

/* Issues a bearer token for user_id; token receives "wt_" + 48 hex. */
int auth_token_issue(store *st, const audit_actor *a, int64_t user_id, const char *label,
                     int64_t expires_at, char token[64], int64_t *id, werr *e);
int auth_token_revoke(store *st, const audit_actor *a, int64_t token_id, werr *e);
int auth_token_list(db *d, json_t **out, werr *e);

/* Per-address login limiter: 1 when another attempt is allowed now. */
int auth_rate_allow(const char *ip);

json_t *principal_to_json(const principal *p);

#endif
