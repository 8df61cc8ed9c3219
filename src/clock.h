/*
 * clock — the one source of "now" for the domain (deadlines, overdue,
 * sessions). Tests may shift it forward with clock_set_offset() (exposed
 * only by `whistle serve --test-clock`), so that a deadline can pass
 * without waiting for it.
 */
#ifndef WHISTLE_CLOCK_H
#define WHISTLE_CLOCK_H

#include <stdint.h>

/* Seconds since the epoch, shifted by the test offset. */
int64_t clock_now(void);
/* Milliseconds since the epoch, shifted by the test offset. */
int64_t clock_now_ms(void);
/* Monotonic nanoseconds, for measuring durations (never shifted). */
int64_t clock_mono_ns(void);
void clock_set_offset(int64_t seconds);
int64_t clock_offset(void);
/* Formats epoch seconds as RFC 3339 UTC ("2026-11-23T03:10:00Z") into out[21+]. */
void clock_format(int64_t t, char out[32]);
/* Formats epoch seconds in China Standard Time (+08:00). */
void clock_format_local(int64_t t, char out[32]);
/* Parses RFC 3339 / ISO 8601 ("2026-11-23", "2026-11-23T03:10:00Z",
 * "…+08:00"); returns 0 and sets *t, or -1. Dates alone are taken at
 * 00:00 China Standard Time. */
int clock_parse(const char *s, int64_t *t);

#endif
