/*
 * httpc.c — see httpc.h. Everything that parses bytes from outside (URLs,
 * CIDRs, the status line) is a pure function, fuzzed by
 * tests/fuzz/fuzz_http_client.c.
 */
#include "httpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "clock.h"

/* ---- URL ------------------------------------------------------------- */

static int is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int httpc_parse_url(const char *url, httpc_url *out)
{
    memset(out, 0, sizeof *out);
    if (!url)
        return 1;
    if (strncasecmp(url, "https://", 8) == 0)
        return 2;
    if (strncasecmp(url, "http://", 7) != 0)
        return strstr(url, "://") ? 2 : 1;
    const char *p = url + 7;
    /* Only printable ASCII without spaces, backslashes or fragments:
     * anything else must be percent-encoded by whoever wrote the URL. */
    for (const char *q = p; *q; q++) {
        unsigned char c = (unsigned char)*q;
        if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '#')
            return 1;
    }
    size_t alen = strcspn(p, "/?");
    const char *aend = p + alen;
    if (memchr(p, '@', alen))
        return 1; /* user info: credentials in URLs end up in logs */
    const char *host = p, *hend, *port = NULL;
    if (*p == '[') {
        const char *rb = memchr(p, ']', alen);
        if (!rb || rb == p + 1)
            return 1;
        host = p + 1;
        hend = rb;
        for (const char *q = host; q < hend; q++)
            if (!(is_alnum(*q) || *q == ':' || *q == '.'))
                return 1;
        if (rb + 1 < aend) {
            if (rb[1] != ':')
                return 1;
            port = rb + 2;
        }
        out->is_ipv6 = 1;
    } else {
        const char *colon = memchr(p, ':', alen);
        hend = colon ? colon : aend;
        if (colon)
            port = colon + 1;
        if (hend == host)
            return 1;
        for (const char *q = host; q < hend; q++)
            if (!(is_alnum(*q) || *q == '.' || *q == '-'))
                return 1;
    }
    size_t hlen = (size_t)(hend - host);
    if (hlen == 0 || hlen >= sizeof out->host)
        return 1;
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    if (port) {
        size_t plen = (size_t)(aend - port);
        if (plen == 0 || plen > 5)
            return 1;
        long v = 0;
        for (size_t i = 0; i < plen; i++) {
            if (port[i] < '0' || port[i] > '9')
                return 1;
            v = v * 10 + (port[i] - '0');
        }
        if (v < 1 || v > 65535)
            return 1;
        snprintf(out->port, sizeof out->port, "%ld", v);
    } else {
        snprintf(out->port, sizeof out->port, "80");
    }
    const char *path = aend;
    size_t plen = strlen(path);
    if (plen + 2 > sizeof out->path)
        return 1;
    if (*path == '?')
        snprintf(out->path, sizeof out->path, "/%s", path);
    else if (*path)
        snprintf(out->path, sizeof out->path, "%s", path);
    else
        snprintf(out->path, sizeof out->path, "/");
    return 0;
}

/* ---- status line ------------------------------------------------------- */

#define STATUS_LINE_MAX 1024

int httpc_parse_status(const char *buf, size_t len, int *status)
{
    static const char pre[] = "HTTP/1.";
    size_t n = len < 7 ? len : 7;
    if (memcmp(buf, pre, n) != 0)
        return -1;
    if (len < 7)
        return 0;
    const char *nl = memchr(buf, '\n', len < STATUS_LINE_MAX ? len : STATUS_LINE_MAX);
    if (!nl)
        return len >= STATUS_LINE_MAX ? -1 : 0;
    size_t ll = (size_t)(nl - buf);
    if (ll > 0 && buf[ll - 1] == '\r')
        ll--;
    if (ll < 12)
        return -1;
    if (buf[7] < '0' || buf[7] > '9' || buf[8] != ' ')
        return -1;
    int v = 0;
    for (int i = 9; i < 12; i++) {
        if (buf[i] < '0' || buf[i] > '9')
            return -1;
        v = v * 10 + (buf[i] - '0');
    }
    if (v < 100 || v > 599)
        return -1;
    if (ll > 12 && buf[12] != ' ')
        return -1;
    for (size_t i = 12; i < ll; i++) {
        unsigned char c = (unsigned char)buf[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return -1;
    }
    *status = v;
    return 1;
}

/* ---- address policy ---------------------------------------------------- */

int httpc_parse_cidr(const char *s, int *family, unsigned char addr[16], int *prefix)
{
    char a[64];
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof a)
        return -1;
    memcpy(a, s, alen);
    a[alen] = '\0';
    memset(addr, 0, 16);
    int max;
    if (inet_pton(AF_INET, a, addr) == 1) {
        *family = AF_INET;
        max = 32;
    } else if (inet_pton(AF_INET6, a, addr) == 1) {
        *family = AF_INET6;
        max = 128;
    } else {
        return -1;
    }
    int p = max;
    if (slash) {
        const char *q = slash + 1;
        if (!*q || strlen(q) > 3)
            return -1;
        p = 0;
        for (; *q; q++) {
            if (*q < '0' || *q > '9')
                return -1;
            p = p * 10 + (*q - '0');
        }
        if (p > max)
            return -1;
    }
    *prefix = p;
    return 0;
}

static int prefix_match(const unsigned char *a, const unsigned char *net, int bits)
{
    int full = bits / 8, rest = bits % 8;
    if (memcmp(a, net, (size_t)full) != 0)
        return 0;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if ((a[full] & mask) != (net[full] & mask))
            return 0;
    }
    return 1;
}

/* Normalises an address to (family, 16 bytes); IPv4-mapped IPv6
 * (::ffff:a.b.c.d) counts as the IPv4 address it carries. */
static int addr_bytes(const struct sockaddr *sa, unsigned char b[16])
{
    memset(b, 0, 16);
    if (sa->sa_family == AF_INET) {
        memcpy(b, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return AF_INET;
    }
    if (sa->sa_family == AF_INET6) {
        const unsigned char *v6 =
            ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr.s6_addr;
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(v6, mapped, 12) == 0) {
            memcpy(b, v6 + 12, 4);
            return AF_INET;
        }
        memcpy(b, v6, 16);
        return AF_INET6;
    }
    return -1;
}

static int why_set(char *why, size_t whylen, const char *msg)
{
    if (why && whylen)
        snprintf(why, whylen, "%s", msg);
    return 0;
}

int httpc_addr_allowed(const struct sockaddr *sa, const char *allow, char *why, size_t whylen)
{
    unsigned char b[16];
    int fam = addr_bytes(sa, b);
    if (fam == AF_INET) {
        if (b[0] == 0)
            return why_set(why, whylen, "unspecified address (0.0.0.0/8)");
        if (b[0] == 169 && b[1] == 254)
            return why_set(why, whylen, "link-local address (169.254.0.0/16, cloud metadata)");
        if (b[0] >= 224)
            return why_set(why, whylen, "multicast, reserved or broadcast address");
    } else if (fam == AF_INET6) {
        static const unsigned char zero[16] = {0};
        if (memcmp(b, zero, 16) == 0)
            return why_set(why, whylen, "unspecified address (::)");
        if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
            return why_set(why, whylen, "link-local address (fe80::/10)");
        if (b[0] == 0xff)
            return why_set(why, whylen, "multicast address (ff00::/8)");
    } else {
        return why_set(why, whylen, "not an IP address");
    }
    if (!allow || !*allow)
        return 1;
    /* The operator's allow list: the target must be inside one entry. */
    const char *p = allow;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n == 0)
            break;
        char item[80];
        if (n < sizeof item) {
            memcpy(item, p, n);
            item[n] = '\0';
            int f, prefix;
            unsigned char net[16];
            if (httpc_parse_cidr(item, &f, net, &prefix) == 0 && f == fam &&
                prefix_match(b, net, prefix))
                return 1;
        }
        p += n;
    }
    return why_set(why, whylen, "address outside WHISTLE_WEBHOOK_ALLOW");
}

int httpc_literal_refused(const char *host, const char *allow, char *why, size_t whylen)
{
    struct sockaddr_in6 s6;
    struct sockaddr_in s4;
    memset(&s6, 0, sizeof s6);
    memset(&s4, 0, sizeof s4);
    const struct sockaddr *sa;
    if (inet_pton(AF_INET, host, &s4.sin_addr) == 1) {
        s4.sin_family = AF_INET;
        sa = (const struct sockaddr *)(const void *)&s4;
    } else if (inet_pton(AF_INET6, host, &s6.sin6_addr) == 1) {
        s6.sin6_family = AF_INET6;
        sa = (const struct sockaddr *)(const void *)&s6;
    } else {
        return 0; /* a name: checked after resolution, at delivery */
    }
    return !httpc_addr_allowed(sa, allow, why, whylen);
}

/* ---- POST -------------------------------------------------------------- */

static int remaining_ms(int64_t deadline_ns)
{
    int64_t left = (deadline_ns - clock_mono_ns()) / 1000000;
    return left < 0 ? 0 : (int)left;
}

static int fail(httpc_result *res, const char *fmt, const char *arg)
{
    snprintf(res->error, sizeof res->error, fmt, arg);
    return -1;
}

static int connect_one(const struct addrinfo *ai, int64_t deadline_ns, char *err, size_t errlen)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        return fd;
    if (errno != EINPROGRESS) {
        snprintf(err, errlen, "connect: %s", strerror(errno));
        close(fd);
        return -1;
    }
    struct pollfd pfd = {fd, POLLOUT, 0};
    int pr = poll(&pfd, 1, remaining_ms(deadline_ns));
    if (pr <= 0) {
        snprintf(err, errlen, "connect: %s", pr == 0 ? "timed out" : strerror(errno));
        close(fd);
        return -1;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
        snprintf(err, errlen, "connect: %s", strerror(soerr ? soerr : errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n, int64_t deadline_ns)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return -1;
        struct pollfd pfd = {fd, POLLOUT, 0};
        if (poll(&pfd, 1, remaining_ms(deadline_ns)) <= 0)
            return -1;
    }
    return 0;
}

int httpc_post(const httpc_url *u, const char *const *headers, int nheaders, const char *body,
               size_t len, int timeout_ms, const char *allow, httpc_result *res)
{
    memset(res, 0, sizeof *res);
    int64_t deadline = clock_mono_ns() + (int64_t)timeout_ms * 1000000;
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int gr = getaddrinfo(u->host, u->port, &hints, &ai);
    if (gr != 0)
        return fail(res, "cannot resolve host: %s", gai_strerror(gr));
    int fd = -1;
    char err[160] = "no address";
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        char why[100];
        if (!httpc_addr_allowed(a->ai_addr, allow, why, sizeof why)) {
            snprintf(err, sizeof err, "target refused: %s", why);
            continue;
        }
        fd = connect_one(a, deadline, err, sizeof err);
    }
    freeaddrinfo(ai);
    if (fd < 0)
        return fail(res, "%s", err);

    /* The request head: Host carries the port unless it is the default. */
    size_t cap = 1024 + strlen(u->path) + strlen(u->host);
    for (int i = 0; i < nheaders; i++)
        cap += strlen(headers[i]) + 2;
    char *head = malloc(cap);
    if (!head) {
        close(fd);
        return fail(res, "%s", "out of memory");
    }
    int hostport = strcmp(u->port, "80") != 0;
    int off = snprintf(head, cap,
                       "POST %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\n"
                       "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                       "Connection: close\r\nUser-Agent: whistle/%s\r\n",
                       u->path, u->is_ipv6 ? "[" : "", u->host, u->is_ipv6 ? "]" : "",
                       hostport ? ":" : "", hostport ? u->port : "", len, WHISTLE_VERSION);
    for (int i = 0; i < nheaders && off > 0 && (size_t)off < cap; i++)
        off += snprintf(head + off, cap - (size_t)off, "%s\r\n", headers[i]);
    if (off > 0 && (size_t)off < cap)
        off += snprintf(head + off, cap - (size_t)off, "\r\n");
    if (off <= 0 || (size_t)off >= cap) {
        free(head);
        close(fd);
        return fail(res, "%s", "request head too large");
    }
    int sent = send_all(fd, head, (size_t)off, deadline) == 0 &&
               send_all(fd, body, len, deadline) == 0;
    free(head);
    if (!sent) {
        close(fd);
        return fail(res, "send: %s", remaining_ms(deadline) ? strerror(errno) : "timed out");
    }
    /* Read just enough for the status line; the body does not matter. */
    char buf[STATUS_LINE_MAX];
    size_t got = 0;
    int ps = 0;
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        int pr = poll(&pfd, 1, remaining_ms(deadline));
        if (pr <= 0) {
            close(fd);
            return fail(res, "%s", pr == 0 ? "no response: timed out" : "poll failed");
        }
        ssize_t r = recv(fd, buf + got, sizeof buf - got, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0) {
            close(fd);
            return fail(res, "%s", "connection closed before a status line");
        }
        got += (size_t)r;
        ps = httpc_parse_status(buf, got, &res->status);
        if (ps != 0 || got == sizeof buf)
            break;
    }
    close(fd);
    if (ps != 1) {
        res->status = 0;
        return fail(res, "%s", "not an HTTP/1.x response");
    }
    return 0;
}
