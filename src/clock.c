#include "clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic int64_t offset_s;

int64_t clock_now(void)
{
    return (int64_t)time(NULL) + atomic_load(&offset_s);
}

int64_t clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + atomic_load(&offset_s) * 1000;
}

int64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void clock_set_offset(int64_t seconds)
{
    atomic_store(&offset_s, seconds);
}

int64_t clock_offset(void)
{
    return atomic_load(&offset_s);
}

/* Writes t (epoch seconds, UTC) as "YYYY-MM-DDTHH:MM:SS" followed by suffix.
 * The calendar is computed (civil from days, Howard Hinnant's algorithm)
 * because gmtime_r takes glibc's process-wide time-zone lock on every call,
 * and an answer carries a dozen timestamps. Years outside 0..9999 (never
 * ours) go through gmtime_r and strftime. */
static void format_utc(int64_t t, const char *suffix, char out[32])
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = (int64_t)yoe + era * 400 + (m <= 2);
    if (y < 0 || y > 9999) {
        time_t tt = (time_t)t;
        struct tm tm;
        char fmt[40];
        snprintf(fmt, sizeof fmt, "%%Y-%%m-%%dT%%H:%%M:%%S%s", suffix);
        if (!gmtime_r(&tt, &tm) || strftime(out, 32, fmt, &tm) == 0)
            snprintf(out, 32, "invalid time");
        return;
    }
    unsigned f[6] = {(unsigned)y / 100,       (unsigned)y % 100,         m, d,
                     (unsigned)(secs / 3600), (unsigned)(secs / 60 % 60)};
    unsigned sec = (unsigned)(secs % 60);
    static const char sep_before[] = "  --T:"; /* by field; none before the year */
    char *p = out;
    for (int i = 0; i < 6; i++) {
        if (i > 1)
            *p++ = sep_before[i];
        *p++ = (char)('0' + f[i] / 10);
        *p++ = (char)('0' + f[i] % 10);
    }
    *p++ = ':';
    *p++ = (char)('0' + sec / 10);
    *p++ = (char)('0' + sec % 10);
    size_t n = strlen(suffix);
    memcpy(p, suffix, n + 1);
}

void clock_format(int64_t t, char out[32])
{
    format_utc(t, "Z", out);
}

void clock_format_local(int64_t t, char out[32])
{
    format_utc(t + 8 * 3600, "+08:00", out);
}

static int digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        *v = *v * 10 + (s[i] - '0');
    }
    return 0;
}

int clock_parse(const char *s, int64_t *t)
{
    int y, mo, d, h = 0, mi = 0, se = 0;
    long tz = 8 * 3600; /* a bare date or local time is China Standard Time */
    size_t n = strlen(s);
    if (n < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d))
        return -1;
    const char *p = s + 10;
    if (*p == 'T' || *p == ' ') {
        if (strlen(p) < 6 || digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi))
            return -1;
        p += 6;
        if (*p == ':') {
            if (digits(p + 1, 2, &se))
                return -1;
            p += 3;
            if (*p == '.') { /* fractional seconds are accepted and dropped */
                p++;
                while (*p >= '0' && *p <= '9')
                    p++;
            }
        }
        if (*p == 'Z') {
            tz = 0;
            p++;
        } else if (*p == '+' || *p == '-') {
            int th, tm_;
            if (strlen(p) < 6 || digits(p + 1, 2, &th) || p[3] != ':' || digits(p + 4, 2, &tm_))
                return -1;
            tz = (th * 3600L + tm_ * 60L) * (*p == '-' ? -1 : 1);
            p += 6;
        }
    }
    if (*p != '\0')
        return -1;
    if (y < 1900 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        se > 60)
        return -1;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap))
        return -1;
    /* days from civil (Howard Hinnant's algorithm), independent of TZ env */
    int yy = y - (mo <= 2);
    int era = (yy >= 0 ? yy : yy - 399) / 400;
    unsigned yoe = (unsigned)(yy - era * 400);
    unsigned doy = (153u * (unsigned)(mo + (mo > 2 ? -3 : 9)) + 2) / 5 + (unsigned)d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    int64_t days = (int64_t)era * 146097 + (int64_t)doe - 719468;
    *t = days * 86400 + h * 3600 + mi * 60 + se - tz;
    return 0;
}
