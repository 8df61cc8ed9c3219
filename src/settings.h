/*
 * settings — the deployment settings an administrator edits (设置): the one
 * table of known keys with their type, range, default and whether the
 * public (residents' page, map) may read them. Values live in the versioned
 * `settings` table (001_core.sql): each change adds a row valid from now,
 * so a past period can still be judged by the rules of its time, and every
 * change is audited. Readers of a single value in the domain use
 * ops_setting_int() (ops_settings.h) or their own lookup by key.
 *
 * The assessment weights have their own versioned API (assessment.h).
 */
#ifndef WHISTLE_SETTINGS_H
#define WHISTLE_SETTINGS_H

#include <jansson.h>

#include "audit.h"
#include "err.h"
#include "store.h"

/* All known settings with their current value, default and range. */
int settings_list(db *d, int public_only, json_t **out, werr *e);
/* Validates value against the key's declared type and range, then stores
 * it valid from now (audited). */
int settings_put(store *st, const audit_actor *a, const char *key, json_t *value, werr *e);

#endif
