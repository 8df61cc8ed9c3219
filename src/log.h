/*
 * log — structured one-line JSON logs to stderr:
 *   {"ts":"2026-11-23T03:10:00.123Z","level":"info","rid":"…","msg":"…"}
 * The request id ties every line of one request together.
 */
#ifndef WHISTLE_LOG_H
#define WHISTLE_LOG_H

enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(int level);
void log_msg(int level, const char *rid, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_info(rid, ...) log_msg(LOG_INFO, rid, __VA_ARGS__)
#define log_warn(rid, ...) log_msg(LOG_WARN, rid, __VA_ARGS__)
#define log_error(rid, ...) log_msg(LOG_ERROR, rid, __VA_ARGS__)

/* The request id of the request this thread is serving (NULL outside one);
 * set by the HTTP layer so that deep modules can log with it. */
const char *log_thread_rid(void);
void log_set_thread_rid(const char *rid);

#endif
