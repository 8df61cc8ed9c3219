#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
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

/* One write(2) per line rather than fwrite: stdio locks stderr around the
 * system call, and a connection thread preempted while holding that lock
 * stalled every other thread's request log (a convoy in the tail latency).
 * A line is one write, so lines from different threads do not interleave. */
static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return; /* nowhere left to say it */
        p += k;
        n -= (size_t)k;
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
    char when[32];
    clock_format(ts.tv_sec, when); /* "…T12:11:08Z": the Z goes after the milliseconds */
    when[strcspn(when, "Z")] = '\0';

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
        write_all(STDERR_FILENO, b.s, b.len);
    wbuf_free(&b);
}
