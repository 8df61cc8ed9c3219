/* libFuzzer: request bodies — JSON parsing and every field validator. */
#include <stddef.h>
#include <stdint.h>

#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *o = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
    if (!o)
        return 0;
    werr e;
    const char *s;
    int64_t i;
    double d;
    int b;
    static const char *const allowed[] = {"satisfied", "basically_satisfied", "dissatisfied", NULL};
    static const char *const keys[] = {"login", "password", "name", "phone", "lat", "n", "x", ""};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        jfield_text(o, keys[k], FIELD_OPTIONAL, 0, 64, &s, &e);
        jfield_multiline(o, keys[k], FIELD_REQUIRED, 1, 2000, &s, &e);
        jfield_int(o, keys[k], FIELD_OPTIONAL, INT64_MIN, INT64_MAX, &i, &e);
        jfield_double(o, keys[k], FIELD_OPTIONAL, -90, 90, &d, &e);
        jfield_bool(o, keys[k], FIELD_OPTIONAL, &b, &e);
        jfield_enum(o, keys[k], FIELD_OPTIONAL, allowed, &s, &e);
    }
    json_decref(o);
    return 0;
}
