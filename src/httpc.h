/*
 * httpc — a minimal HTTP/1.1 client for the webhook worker: one POST per
 * connection (Connection: close) over plain TCP, with a deadline on the
 * whole exchange, and a policy on which addresses may be contacted.
 *
 * Only http:// URLs: whistle links no TLS library. A county that needs
 * https to its OA system or SMS gateway runs a local TLS relay (stunnel,
 * nginx) and points the webhook at it (docs/notifications.md).
 *
 * Target policy (server-side request forgery): a webhook URL is chosen by
 * an administrator, but an administrator account must not become a way
 * to reach the machine's cloud metadata service or anything else the
 * operator did not mean. Always refused: unspecified (0.0.0.0, ::),
 * link-local (169.254.0.0/16 — cloud metadata — and fe80::/10), multicast,
 * reserved and broadcast addresses. When the environment variable
 * WHISTLE_WEBHOOK_ALLOW is set (comma-separated CIDRs, e.g.
 * "10.0.0.0/8,127.0.0.1/32"), the target must also lie in one of them.
 * The check is made on the address actually connected to (after DNS), so
 * a name that resolves to a refused address is refused too.
 */
#ifndef WHISTLE_HTTPC_H
#define WHISTLE_HTTPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct httpc_url {
    char host[256];  /* name or address, without [] for IPv6 */
    char port[6];    /* "80" when absent */
    char path[2048]; /* path and query, "/" when absent */
    int is_ipv6;     /* host was written as [addr] */
} httpc_url;

/* Parses "http://host[:port][/path][?query]". Refuses other schemes
 * (https: code 2, so the caller can say "needs a relay"), user info,
 * fragments, control characters and spaces, empty hosts and ports outside
 * 1–65535. Returns 0, 1 (malformed) or 2 (scheme not http). */
int httpc_parse_url(const char *url, httpc_url *out);

/* Parses the start of an HTTP response: the status line
 * "HTTP/1.x NNN reason\r\n". Returns 1 and sets *status when the status
 * line is complete and valid, 0 when more bytes are needed, -1 when it is
 * not an HTTP/1.x response. */
int httpc_parse_status(const char *buf, size_t len, int *status);

/* Parses one CIDR ("10.0.0.0/8", "::1/128", "127.0.0.1" = /32).
 * Returns 0 and fills family (AF_INET/AF_INET6), addr (16 bytes, IPv4 in
 * the first 4) and prefix, or -1. */
int httpc_parse_cidr(const char *s, int *family, unsigned char addr[16], int *prefix);

/* 1 when sa may be contacted under the policy above (allow: the
 * WHISTLE_WEBHOOK_ALLOW list, NULL or "" for none); else 0 and a reason
 * in why. */
int httpc_addr_allowed(const struct sockaddr *sa, const char *allow, char *why, size_t whylen);

/* 1 when host is a literal IP address that the policy refuses (checked at
 * webhook creation so the administrator hears about it at once). */
int httpc_literal_refused(const char *host, const char *allow, char *why, size_t whylen);

typedef struct httpc_result {
    int status;       /* HTTP status, 0 when none was received */
    char error[200];  /* why it failed, when it did */
} httpc_result;

/* POSTs body to u with the given extra header lines (each "Name: value",
 * no CRLF), waiting at most timeout_ms for the whole exchange. Returns 0
 * when a status line was received (res->status set, any status), -1 on a
 * network error, a refused target or a timeout (res->error says which). */
int httpc_post(const httpc_url *u, const char *const *headers, int nheaders, const char *body,
               size_t len, int timeout_ms, const char *allow, httpc_result *res);

#endif
