/*
 * ops_settings — reads the numeric settings of the background work
 * (webhook retries, supervision thresholds, default rating) from the
 * versioned settings table (001_core.sql: key, valid_from, JSON value):
 * the value in force now, or the default when none is set.
 *
 * Keys used (all integers; defaults in docs/notifications.md and
 * docs/orders.md): webhook.max_attempts, webhook.backoff_ms,
 * webhook.timeout_ms, supervision.warning_hours, supervision.return_limit,
 * supervision.answer_days, supervision.points.*, rating.default_days.
 */
#ifndef WHISTLE_OPS_SETTINGS_H
#define WHISTLE_OPS_SETTINGS_H

#include <stdint.h>

#include "store.h"

/* The integer value of key in force at clock_now(); def when unset or not
 * a number. */
int64_t ops_setting_int(db *d, const char *key, int64_t def);

#endif
