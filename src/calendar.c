/*
 * calendar.c — working days and deadline arithmetic (see calendar.h).
 * Local time is China Standard Time: UTC+8 all year, so a local day is
 * simply floor((t + 8h) / 24h) and no time-zone database is needed.
 */
#include "calendar.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assets.h"
#include "clock.h"

#define CST (8 * 3600)
#define DAY 86400

/* ---- dates ---------------------------------------------------------------- */

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floordiv(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floordiv(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static int parse_date(const char *s, int *y, int *m, int *d)
{
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return -1;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return -1;
    *y = atoi(s);
    *m = (s[5] - '0') * 10 + (s[6] - '0');
    *d = (s[8] - '0') * 10 + (s[9] - '0');
    if (*m < 1 || *m > 12 || *d < 1 || *d > 31)
        return -1;
    int yy, mm, dd; /* reject 2026-02-30 */
    civil_from_days(days_from_civil(*y, *m, *d), &yy, &mm, &dd);
    return (yy == *y && mm == *m && dd == *d) ? 0 : -1;
}

static int parse_hhmm(const char *s)
{
    if (!s || strlen(s) != 5 || s[2] != ':' || s[0] < '0' || s[0] > '2' || s[1] < '0' ||
        s[1] > '9' || s[3] < '0' || s[3] > '5' || s[4] < '0' || s[4] > '9')
        return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || (h == 24 && m))
        return -1;
    return h * 60 + m;
}

/* ---- the calendar ------------------------------------------------------- */

static const int default_periods[2][2] = {{8 * 60 + 30, 12 * 60}, {14 * 60, 17 * 60 + 30}};

void calendar_init(calendar *c)
{
    memset(c, 0, sizeof *c);
    c->nperiods = 2;
    memcpy(c->periods, default_periods, sizeof default_periods);
}

int calendar_parse_year(const char *json, size_t len, struct cal_year *y, werr *e)
{
    memset(y, 0, sizeof *y);
    json_error_t je;
    json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        return werr_set(e, W_EINVALID, "invalid_calendar", "calendar: not a JSON object (%s)",
                        doc ? "wrong type" : je.text);
    }
    int rc = W_EINVALID;
    json_t *jy = json_object_get(doc, "year");
    if (!json_is_integer(jy) || json_integer_value(jy) < CAL_MIN_YEAR ||
        json_integer_value(jy) > CAL_MAX_YEAR) {
        werr_set(e, rc, "invalid_calendar", "year: an integer from %d to %d", CAL_MIN_YEAR,
                 CAL_MAX_YEAR);
        goto out;
    }
    y->year = (int)json_integer_value(jy);
    json_t *hours = json_object_get(doc, "hours");
    if (hours) {
        if (!json_is_array(hours) || json_array_size(hours) < 1 ||
            json_array_size(hours) > CAL_MAX_PERIODS) {
            werr_set(e, rc, "invalid_calendar", "hours: 1 to %d [\"HH:MM\",\"HH:MM\"] periods",
                     CAL_MAX_PERIODS);
            goto out;
        }
        int prev_end = -1;
        for (size_t i = 0; i < json_array_size(hours); i++) {
            json_t *p = json_array_get(hours, i);
            int a = json_is_array(p) && json_array_size(p) == 2
                        ? parse_hhmm(json_string_value(json_array_get(p, 0)))
                        : -1;
            int b = a >= 0 ? parse_hhmm(json_string_value(json_array_get(p, 1))) : -1;
            if (a < 0 || b <= a || a < prev_end) {
                werr_set(e, rc, "invalid_calendar",
                         "hours[%zu]: a period [\"HH:MM\",\"HH:MM\"] after the previous one", i);
                goto out;
            }
            y->periods[i][0] = a;
            y->periods[i][1] = b;
            prev_end = b;
        }
        y->nperiods = (int)json_array_size(hours);
    }
    static const char *const lists[2] = {"holidays", "workdays"};
    for (int k = 0; k < 2; k++) {
        json_t *arr = json_object_get(doc, lists[k]);
        if (!arr)
            continue;
        if (!json_is_array(arr) || json_array_size(arr) > 366) {
            werr_set(e, rc, "invalid_calendar", "%s: an array of dates", lists[k]);
            goto out;
        }
        for (size_t i = 0; i < json_array_size(arr); i++) {
            int yy, mm, dd;
            const char *s = json_string_value(json_array_get(arr, i));
            if (parse_date(s, &yy, &mm, &dd) != 0 || yy != y->year) {
                werr_set(e, rc, "invalid_calendar", "%s[%zu]: a date YYYY-MM-DD in %d", lists[k],
                         i, y->year);
                goto out;
            }
            int64_t doy = days_from_civil(yy, mm, dd) - days_from_civil(yy, 1, 1);
            if (y->off[doy]) {
                werr_set(e, rc, "invalid_calendar", "%s: %s is listed twice", lists[k], s);
                goto out;
            }
            y->off[doy] = (unsigned char)(k + 1);
        }
    }
    rc = WOK;
out:
    json_decref(doc);
    return rc;
}

void calendar_put_year(calendar *c, const struct cal_year *y)
{
    for (int i = 0; i < c->nyears; i++)
        if (c->years[i].year == y->year) {
            c->years[i] = *y;
            return;
        }
    if (c->nyears < (int)(sizeof c->years / sizeof c->years[0])) {
        c->years[c->nyears++] = *y;
        return;
    }
    int oldest = 0; /* full: replace the oldest year */
    for (int i = 1; i < c->nyears; i++)
        if (c->years[i].year < c->years[oldest].year)
            oldest = i;
    if (y->year > c->years[oldest].year)
        c->years[oldest] = *y;
}

static const struct cal_year *year_of(const calendar *c, int year)
{
    for (int i = 0; i < c->nyears; i++)
        if (c->years[i].year == year)
            return &c->years[i];
    return NULL;
}

/* Whether local day number `day` is a working day, and its periods. */
static int day_info(const calendar *c, int64_t day, const int (**periods)[2], int *nperiods)
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    const struct cal_year *cy = year_of(c, y);
    *periods = c->periods;
    *nperiods = c->nperiods;
    if (cy && cy->nperiods) {
        *periods = cy->periods;
        *nperiods = cy->nperiods;
    }
    if (cy) {
        int mark = cy->off[day - days_from_civil(y, 1, 1)];
        if (mark == 1)
            return 0;
        if (mark == 2)
            return 1;
    }
    int dow = (int)(((day + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
    return dow != 0 && dow != 6;
}

int calendar_is_workday(const calendar *c, int64_t t)
{
    const int(*p)[2];
    int n;
    return day_info(c, floordiv(t + CST, DAY), &p, &n);
}

int64_t calendar_add(const calendar *c, int64_t start, int64_t minutes, int working)
{
    if (minutes <= 0)
        return start;
    if (!working)
        return start + minutes * 60;
    int64_t remaining = minutes * 60;
    int64_t day = floordiv(start + CST, DAY);
    int64_t sod = start + CST - day * DAY; /* seconds into the local day */
    for (int guard = 0; guard < 366 * 20; guard++, day++, sod = 0) {
        const int(*p)[2];
        int n;
        if (!day_info(c, day, &p, &n))
            continue;
        for (int i = 0; i < n; i++) {
            int64_t a = (int64_t)p[i][0] * 60, b = (int64_t)p[i][1] * 60;
            if (sod >= b)
                continue;
            int64_t s = sod > a ? sod : a;
            if (remaining <= b - s)
                return day * DAY - CST + s + remaining;
            remaining -= b - s;
            sod = b;
        }
    }
    return start + minutes * 60; /* no working time in 20 years: natural time */
}

int64_t calendar_minutes_between(const calendar *c, int64_t a, int64_t b, int working)
{
    if (b <= a)
        return 0;
    if (!working)
        return (b - a) / 60;
    int64_t total = 0;
    int64_t day = floordiv(a + CST, DAY), last = floordiv(b + CST, DAY);
    for (; day <= last && day - floordiv(a + CST, DAY) < 366 * 20; day++) {
        const int(*p)[2];
        int n;
        if (!day_info(c, day, &p, &n))
            continue;
        int64_t base = day * DAY - CST;
        for (int i = 0; i < n; i++) {
            int64_t s = base + (int64_t)p[i][0] * 60, t = base + (int64_t)p[i][1] * 60;
            if (s < a)
                s = a;
            if (t > b)
                t = b;
            if (t > s)
                total += t - s;
        }
    }
    return total / 60;
}

/* ---- the process-wide calendar --------------------------------------------- */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static calendar g_cal;
static int g_init;

void calendar_current(calendar *out)
{
    pthread_mutex_lock(&g_mu);
    if (!g_init) {
        calendar_init(&g_cal);
        g_init = 1;
    }
    *out = g_cal;
    pthread_mutex_unlock(&g_mu);
}

int calendar_load(store *st, werr *e)
{
    calendar c;
    calendar_init(&c);
    db *d = store_reader(st);
    if (!d)
        return werr_set(e, W_EINTERNAL, "database_unavailable", "database unavailable");
    db_stmt *s = db_query(d, "SELECT year, body FROM calendar_years ORDER BY year", "");
    int rc = s ? WOK : W_EINTERNAL;
    while (s && db_step(s) == DB_ROW) {
        struct cal_year y;
        const char *body = db_col_text(s, 1);
        if (body && calendar_parse_year(body, strlen(body), &y, NULL) == WOK)
            calendar_put_year(&c, &y);
    }
    db_done(s);
    store_release(st, d);
    if (rc != WOK)
        return werr_set(e, rc, "database_error", "cannot read the calendar");
    pthread_mutex_lock(&g_mu);
    g_cal = c;
    g_init = 1;
    pthread_mutex_unlock(&g_mu);
    return WOK;
}

struct save_ctx {
    const audit_actor *a;
    int year;
    const char *body;
    int only_if_missing;
    werr *e;
};

static int save_tx(db *d, void *arg)
{
    struct save_ctx *c = arg;
    if (c->only_if_missing) {
        db_stmt *s = db_query(d, "SELECT 1 FROM calendar_years WHERE year = ?", "i", c->year);
        int has = s && db_step(s) == DB_ROW;
        db_done(s);
        if (has)
            return WOK;
    }
    char when[32], ybuf[16];
    clock_format(clock_now(), when);
    snprintf(ybuf, sizeof ybuf, "%d", c->year);
    int rc = db_exec(d, "DELETE FROM calendar_years WHERE year = ?", "i", c->year);
    if (rc == WOK)
        rc = db_exec(d, "INSERT INTO calendar_years (year, body, updated_at, updated_by) "
                        "VALUES (?, ?, ?, ?)", "ittI", c->year, c->body, when, c->a->user_id);
    json_t *detail = json_pack("{s:i}", "year", c->year);
    if (rc == WOK)
        rc = audit_record(d, c->a, "calendar.put", "calendar", ybuf, detail);
    json_decref(detail);
    return rc == WOK ? WOK
                     : werr_set(c->e, W_EINTERNAL, "database_error", "cannot store the calendar");
}

int calendar_save_year(store *st, const audit_actor *a, int year, const char *json, size_t len,
                       werr *e)
{
    struct cal_year y;
    int rc = calendar_parse_year(json, len, &y, e);
    if (rc != WOK)
        return rc;
    if (y.year != year)
        return werr_set(e, W_EINVALID, "invalid_calendar", "year: the body says %d, the path %d",
                        y.year, year);
    /* Store the canonical form (compact, as validated). */
    json_t *doc = json_loadb(json, len, 0, NULL);
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!body)
        return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
    struct save_ctx c = {a, year, body, 0, e};
    rc = store_write(st, save_tx, &c);
    free(body);
    if (rc != WOK)
        return rc;
    return calendar_load(st, e);
}

int calendar_get_year(store *st, int year, json_t **out, werr *e)
{
    db *d = store_reader(st);
    if (!d)
        return werr_set(e, W_EINTERNAL, "database_unavailable", "database unavailable");
    db_stmt *s = db_query(d, "SELECT body, updated_at FROM calendar_years WHERE year = ?", "i",
                          year);
    *out = NULL;
    if (s && db_step(s) == DB_ROW) {
        *out = json_loads(db_col_text(s, 0), 0, NULL);
        if (*out)
            json_object_set_new(*out, "updated_at", json_string(db_col_text(s, 1)));
    }
    db_done(s);
    store_release(st, d);
    if (!*out)
        *out = json_pack("{s:i, s:[[s,s],[s,s]], s:[], s:[], s:b, s:s}", "year", year, "hours",
                         "08:30", "12:00", "14:00", "17:30", "holidays", "workdays", "default",
                         1, "note", "no calendar loaded for this year: Monday to Friday");
    return WOK;
}

int calendar_ensure_default(store *st, werr *e)
{
    audit_actor a;
    audit_actor_system(&a, "defaults");
    for (const struct asset *as = assets; as->name; as++) {
        if (strncmp(as->name, "data/calendar-", 14) != 0)
            continue;
        struct cal_year y;
        int rc = calendar_parse_year((const char *)as->data, as->len, &y, e);
        if (rc != WOK)
            return rc;
        json_t *doc = json_loadb((const char *)as->data, as->len, 0, NULL);
        char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
        if (!body)
            return werr_set(e, W_EINTERNAL, "out_of_memory", "out of memory");
        struct save_ctx c = {&a, y.year, body, 1, e};
        rc = store_write(st, save_tx, &c);
        free(body);
        if (rc != WOK)
            return rc;
    }
    return calendar_load(st, e);
}
