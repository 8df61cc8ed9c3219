#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "wbuf.h"

static int min_level = LOG_INFO;
static _Thread_local const char *thread_rid;

void log_set_level(int level)
{
    min_level = level;
}

const char *log_thread_rid(void)
{
    return thread_rid;
}

void log_set_thread_rid(const char *rid)
{
    thread_rid = rid;
}

static void json_escape(wbuf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            wbuf_printf(b, "\\%c", c);
        else if (c < 0x20)
            wbuf_printf(b, "\\u%04x", c);
        else
            wbuf_putc(b, (char)c);
    }
}

void log_msg(int level, const char *rid, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (level < min_level)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);

    wbuf b = WBUF_INIT;
    wbuf_printf(&b, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\"", when, ts.tv_nsec / 1000000,
                names[level]);
    if (!rid)
        rid = thread_rid;
    if (rid) {
        wbuf_puts(&b, ",\"rid\":\"");
        json_escape(&b, rid);
        wbuf_putc(&b, '"');
    }
    wbuf_puts(&b, ",\"msg\":\"");
    json_escape(&b, msg);
    wbuf_puts(&b, "\"}\n");
    if (!b.oom)
        fwrite(b.s, 1, b.len, stderr);
    wbuf_free(&b);
}
