/* libFuzzer: the webhook HTTP client's parsers — URLs, the response status
 * line, CIDRs and the target policy (httpc.h), and event filters. The
 * input is split at the first NUL: URL/CIDR text, then response bytes. */
#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"
#include "outbox.h"
#include "webhook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    size_t tlen = strlen(text);

    httpc_url u;
    int r = httpc_parse_url(text, &u);
    if (r == 0) {
        /* what parsed must be well-formed: a host, a port, a path */
        if (!u.host[0] || !u.port[0] || u.path[0] != '/')
            abort();
        char why[100];
        httpc_literal_refused(u.host, "127.0.0.0/8,::1/128", why, sizeof why);
    }

    int fam, prefix;
    unsigned char net[16];
    if (httpc_parse_cidr(text, &fam, net, &prefix) == 0 &&
        (prefix < 0 || prefix > (fam == AF_INET ? 32 : 128)))
        abort();
    struct sockaddr_in6 s6;
    memset(&s6, 0, sizeof s6);
    s6.sin6_family = AF_INET6;
    memcpy(&s6.sin6_addr, data, size < 16 ? size : 16);
    char why[100];
    httpc_addr_allowed((struct sockaddr *)&s6, text, why, sizeof why);

    /* the response bytes: after the first NUL, or the whole input */
    const char *resp = tlen < size ? (const char *)data + tlen + 1 : (const char *)data;
    size_t rlen = tlen < size ? size - tlen - 1 : size;
    int status = 0;
    int ps = httpc_parse_status(resp, rlen, &status);
    if (ps == 1 && (status < 100 || status > 599))
        abort();
    /* feeding the same bytes in pieces gives the same verdict */
    if (ps == 1)
        for (size_t cut = 0; cut < rlen; cut++) {
            int s2 = 0, p2 = httpc_parse_status(resp, cut, &s2);
            if (p2 == -1 || (p2 == 1 && s2 != status))
                abort();
        }

    if (webhook_valid_pattern(text)) {
        json_t *pats = json_pack("[s]", text);
        if (outbox_valid_event(text) && !webhook_filter_matches(pats, text))
            abort();
        json_decref(pats);
    }
    free(text);
    return 0;
}
