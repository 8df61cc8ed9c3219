/*
 * metrics — counters for GET /metrics in Prometheus text format: requests
 * by route and status, latency histogram per route, open connections,
 * database time. Lock-free (atomics); process-wide by nature.
 */
#ifndef WHISTLE_METRICS_H
#define WHISTLE_METRICS_H

#include <stdint.h>

#include "store.h"
#include "wbuf.h"

void metrics_request(int route_index, int status, int64_t duration_ns);
void metrics_connection(int delta);
unsigned metrics_open_connections(void);
/* A request answered on the priority lane (lane.h). */
void metrics_priority_lane(void);
/* Appends the Prometheus exposition of everything to b. */
void metrics_render(wbuf *b, store *st);

#endif
