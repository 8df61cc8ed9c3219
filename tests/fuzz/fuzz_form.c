/* libFuzzer: application/x-www-form-urlencoded bodies (form.c), and the
 * Open311 renderer over what they decode to (XML escaping). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "open311.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    form f;
    werr e;
    if (form_parse((const char *)data, size, &f, &e) != WOK)
        return 0;
    /* Every decoded field is NUL-free UTF-8 within the limits. */
    if (f.n > FORM_MAX_FIELDS)
        abort();
    json_t *o = json_object();
    for (int i = 0; i < f.n; i++) {
        if (strlen(f.f[i].key) > FORM_MAX_KEY)
            abort();
        if (form_get(&f, f.f[i].key) == NULL)
            abort();
        json_object_set_new(o, "value", json_string(f.f[i].value));
        json_object_set_new(o, "key", json_string(f.f[i].key));
    }
    json_t *arr = json_pack("[o]", o);
    size_t len;
    char *x = o311_render(arr, O311_XML, "service_requests", "request", &len);
    if (x && (memchr(x, '\0', len) || strlen(x) != len))
        abort();
    free(x);
    json_decref(arr);
    form_free(&f);
    return 0;
}
