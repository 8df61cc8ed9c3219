#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "supervision.h"
#include "validate.h"
#include "webhook.h"

enum { SET_INT, SET_TEXT, SET_URL };

static const struct setting_def {
    const char *key;
    int type;
    long long min, max;     /* int range, or text length */
    long long def_int;
    const char *def_text;
    int is_public;
    const char *label;      /* for the administration screen */
} defs[] = {
    {"map.tile_url", SET_URL, 0, 300, 0, "", 1,
     "底图瓦片地址 base map tile URL, e.g. https://tiles.example.gov.cn/{z}/{x}/{y}.png (empty: no base map)"},
    {"map.attribution", SET_TEXT, 0, 200, 0, "", 1, "底图署名 base map attribution"},
    {"open311.jurisdiction_id", SET_TEXT, 0, 64, 0, "", 0,
     "Open311 jurisdiction_id (empty: the county's grid code)"},
    {"rating.default_days", SET_INT, 1, 90, RATING_DEFAULT_DAYS, NULL, 0,
     "默认评价天数 days until silence becomes the default rating"},
    {"supervision.warning_hours", SET_INT, 0, 720, SUPERVISION_DEFAULT_WARNING_HOURS, NULL, 0,
     "临期预警小时 warn this many hours before a deadline"},
    {"supervision.answer_hours", SET_INT, 1, 720, SUPERVISION_DEFAULT_ANSWER_HOURS, NULL, 0,
     "督办单答复时限 hours a department has to answer a supervision notice"},
    {"supervision.return_limit", SET_INT, 1, 20, SUPERVISION_DEFAULT_RETURN_LIMIT, NULL, 0,
     "退单次数上限 returns beyond this produce a supervision notice"},
    {"supervision.points.improper_whistle", SET_INT, 0, 100, POINTS_IMPROPER_WHISTLE, NULL, 0,
     "乱吹哨扣分 points per improper whistle"},
    {"supervision.points.late_signing", SET_INT, 0, 100, POINTS_LATE_SIGNING, NULL, 0,
     "签收超时扣分 points per late signing"},
    {"supervision.points.repeated_returns", SET_INT, 0, 100, POINTS_REPEATED_RETURNS, NULL, 0,
     "推诿扯皮扣分 points for repeated returns"},
    {"supervision.points.overdue_completion", SET_INT, 0, 100, POINTS_OVERDUE_COMPLETION, NULL, 0,
     "超期办结扣分 points per overdue completion"},
    {"webhook.max_attempts", SET_INT, 1, 50, WEBHOOK_DEFAULT_MAX_ATTEMPTS, NULL, 0,
     "推送最多尝试次数 delivery attempts before the dead letter list"},
    {"webhook.backoff_ms", SET_INT, 100, 86400000, WEBHOOK_DEFAULT_BACKOFF_MS, NULL, 0,
     "推送重试间隔（毫秒）first retry delay, doubled each time"},
    {"webhook.timeout_ms", SET_INT, 100, 60000, WEBHOOK_DEFAULT_TIMEOUT_MS, NULL, 0,
     "推送超时（毫秒）per delivery attempt"},
};
#define NDEFS ((int)(sizeof defs / sizeof defs[0]))

static const struct setting_def *find_def(const char *key)
{
    for (int i = 0; i < NDEFS; i++)
        if (strcmp(defs[i].key, key) == 0)
            return &defs[i];
    return NULL;
}

static json_t *default_value(const struct setting_def *d)
{
    return d->type == SET_INT ? json_integer(d->def_int) : json_string(d->def_text);
}

int settings_list(db *d, int public_only, json_t **out, werr *e)
{
    char now[32];
    clock_format(clock_now(), now);
    json_t *items = json_object();
    for (int i = 0; i < NDEFS; i++) {
        const struct setting_def *def = &defs[i];
        if (public_only && !def->is_public)
            continue;
        db_stmt *s = db_query(d, "SELECT value, valid_from FROM settings WHERE key = ? AND "
                                 "valid_from <= ? ORDER BY valid_from DESC LIMIT 1",
                              "tt", def->key, now);
        if (!s) {
            json_decref(items);
            return werr_set(e, W_EINTERNAL, "database_error", "cannot read settings");
        }
        json_t *value = NULL;
        const char *since = NULL;
        char since_buf[32] = "";
        if (db_step(s) == DB_ROW && db_col_text(s, 0)) {
            value = json_loads(db_col_text(s, 0), JSON_DECODE_ANY, NULL);
            snprintf(since_buf, sizeof since_buf, "%s", db_col_text(s, 1));
            since = since_buf;
        }
        db_done(s);
        if (!value)
            value = default_value(def);
        if (public_only) {
            json_object_set_new(items, def->key, value);
            continue;
        }
        json_t *it = json_pack("{s:o, s:o, s:s, s:s, s:s*}", "value", value, "default",
                               default_value(def), "type",
                               def->type == SET_INT ? "integer" : "string", "label", def->label,
                               "valid_from", since);
        if (def->type == SET_INT) {
            json_object_set_new(it, "min", json_integer(def->min));
            json_object_set_new(it, "max", json_integer(def->max));
        } else {
            json_object_set_new(it, "max_length", json_integer(def->max));
        }
        json_object_set_new(items, def->key, it);
    }
    *out = public_only ? items : json_pack("{s:o}", "settings", items);
    return WOK;
}

static int valid_tile_url(const char *s)
{
    if (!*s)
        return 1;
    if (strncmp(s, "https://", 8) != 0 && strncmp(s, "http://", 7) != 0)
        return 0;
    /* Leaflet's template needs the tile coordinates. */
    return strstr(s, "{z}") && strstr(s, "{x}") && strstr(s, "{y}") && !strpbrk(s, " \"'<>");
}

struct put_ctx {
    const audit_actor *a;
    const char *key;
    char *value; /* JSON text */
    werr *e;
};

static int put_tx(db *d, void *arg)
{
    struct put_ctx *c = arg;
    char now[32];
    clock_format(clock_now(), now);
    int rc = db_exec(d, "INSERT INTO settings (key, valid_from, value, updated_by) VALUES "
                        "(?, ?, ?, ?) ON CONFLICT (key, valid_from) DO UPDATE SET "
                        "value = excluded.value, updated_by = excluded.updated_by",
                     "tttI", c->key, now, c->value, c->a->user_id);
    if (rc != WOK)
        return werr_set(c->e, W_EINTERNAL, "database_error", "cannot store setting");
    json_t *detail = json_pack("{s:s}", "value", c->value);
    rc = audit_record(d, c->a, "setting.put", "setting", c->key, detail);
    json_decref(detail);
    return rc;
}

int settings_put(store *st, const audit_actor *a, const char *key, json_t *value, werr *e)
{
    const struct setting_def *def = find_def(key);
    if (!def)
        return werr_set(e, W_ENOTFOUND, "not_found", "no setting '%s'", key);
    if (def->type == SET_INT) {
        if (!json_is_integer(value) || json_integer_value(value) < def->min ||
            json_integer_value(value) > def->max)
            return werr_set(e, W_EINVALID, "invalid_field", "value: an integer from %lld to %lld",
                            def->min, def->max);
    } else {
        if (!json_is_string(value) || !valid_text(json_string_value(value), 0, (size_t)def->max))
            return werr_set(e, W_EINVALID, "invalid_field", "value: text of at most %lld characters",
                            def->max);
        if (def->type == SET_URL && !valid_tile_url(json_string_value(value)))
            return werr_set(e, W_EINVALID, "invalid_field",
                            "value: an http(s) URL with {z}, {x} and {y}, or empty");
    }
    char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
    if (!text)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    struct put_ctx c = {a, key, text, e};
    int rc = store_write(st, put_tx, &c);
    free(text);
    return rc;
}
