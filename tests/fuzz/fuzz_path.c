/* libFuzzer: the router — method and path matching, path parameters. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    /* "METHOD path": split at the first space */
    char *sp = strchr(buf, ' ');
    const char *method = "GET", *path = buf;
    if (sp) {
        *sp = '\0';
        method = buf;
        path = sp + 1;
    }
    http_req r;
    memset(&r, 0, sizeof r);
    char allow[128];
    if (router_find(method, path, &r, allow, sizeof allow) == ROUTE_FOUND) {
        req_param(&r, "id");
        req_param(&r, "code");
        req_param(&r, "x");
    }
    router_free_params(&r);
    free(buf);
    return 0;
}
