#include "ops_settings.h"

#include <jansson.h>

#include "clock.h"

int64_t ops_setting_int(db *d, const char *key, int64_t def)
{
    char now[32];
    clock_format(clock_now(), now);
    db_stmt *s = db_query(d,
                          "SELECT value FROM settings WHERE key = ? AND valid_from <= ? "
                          "ORDER BY valid_from DESC LIMIT 1",
                          "tt", key, now);
    int64_t v = def;
    if (s && db_step(s) == DB_ROW) {
        const char *txt = db_col_text(s, 0);
        json_t *j = txt ? json_loads(txt, JSON_DECODE_ANY, NULL) : NULL;
        if (json_is_integer(j))
            v = json_integer_value(j);
        else if (json_is_real(j))
            v = (int64_t)json_real_value(j);
        json_decref(j);
    }
    db_done(s);
    return v;
}
