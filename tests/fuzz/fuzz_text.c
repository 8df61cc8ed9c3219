/* libFuzzer: text validators and the date/time parser used for query
 * parameters (since, until, from, to). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    if (valid_utf8(s, strlen(s))) {
        utf8_chars(s);
        valid_text(s, 0, 100);
        valid_multiline(s, 1, 100);
    }
    valid_login(s);
    valid_phone(s);
    valid_code(s);
    int64_t t;
    if (clock_parse(s, &t) == 0) {
        char out[32];
        clock_format(t, out);
        int64_t t2;
        /* what we format, we parse back to the same instant */
        if (clock_parse(out, &t2) != 0 || t2 != t)
            abort();
    }
    free(s);
    return 0;
}
