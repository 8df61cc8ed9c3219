/*
 * Fuzz target: the edge validation of a report body (order_report_parse)
 * and of every action body (order_action_parse) — JSON from anyone.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "order.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *body = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!body)
        return 0;
    order_report_input in;
    werr e = {0};
    order_report_parse(body, &in, &e);
    for (int a = 1; a < OA__COUNT; a++) {
        order_action_input ai;
        order_action_parse(a, body, &ai, &e);
    }
    json_decref(body);
    return 0;
}
