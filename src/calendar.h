/*
 * calendar — the working-day calendar (工作日历) and deadline arithmetic.
 * A year is loaded by the administrator (PUT /api/v1/calendar/{year}) as
 * JSON: public holidays, make-up working days (调休) and working hours;
 * years nobody loaded fall back to Monday–Friday with the default hours.
 * All local times are China Standard Time (UTC+8, no daylight saving).
 *
 * JSON of one year:
 *   {"year":2026, "source":"…", "hours":[["08:30","12:00"],["14:00","17:30"]],
 *    "holidays":["2026-01-01", …], "workdays":["2026-01-04", …]}
 */
#ifndef WHISTLE_CALENDAR_H
#define WHISTLE_CALENDAR_H

#include <jansson.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "store.h"

#define CAL_MAX_PERIODS 6
#define CAL_MIN_YEAR 2000
#define CAL_MAX_YEAR 2100

struct cal_year {
    int year;
    unsigned char off[366];  /* per day of year (0-based): 1 holiday, 2 make-up workday, 0 rule */
    int nperiods;
    int periods[CAL_MAX_PERIODS][2]; /* working periods, minutes after local midnight */
};

typedef struct calendar {
    int nyears;
    struct cal_year years[8];  /* the loaded years (the newest 8) */
    int nperiods;              /* default working hours for years not loaded */
    int periods[CAL_MAX_PERIODS][2];
} calendar;

/* An empty calendar: Monday–Friday, 08:30–12:00 and 14:00–17:30. */
void calendar_init(calendar *c);
/* Parses and validates one year's JSON (see above) into y. */
int calendar_parse_year(const char *json, size_t len, struct cal_year *y, werr *e);
/* Adds (or replaces) a parsed year. */
void calendar_put_year(calendar *c, const struct cal_year *y);

/* 1 when the local date containing t is a working day. */
int calendar_is_workday(const calendar *c, int64_t t);
/* The deadline `minutes` after start: working minutes (only inside working
 * hours of working days) when working is 1, else natural minutes. */
int64_t calendar_add(const calendar *c, int64_t start, int64_t minutes, int working);
/* Working minutes between a and b (0 when b <= a); natural when !working. */
int64_t calendar_minutes_between(const calendar *c, int64_t a, int64_t b, int working);

/* The process-wide calendar (loaded from the database, refreshed on PUT).
 * calendar_current copies it into out. */
int calendar_load(store *st, werr *e);
void calendar_current(calendar *out);
/* Stores a year (validated), then reloads. */
int calendar_save_year(store *st, const audit_actor *a, int year, const char *json, size_t len,
                       werr *e);
/* The stored JSON of a year, or the default rule when none. */
int calendar_get_year(store *st, int year, json_t **out, werr *e);
/* Loads data/calendar-*.json shipped in the binary for years not yet in the
 * database (init, demo, first serve). */
int calendar_ensure_default(store *st, werr *e);

#endif
