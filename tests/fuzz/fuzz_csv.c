/*
 * Fuzz target for the CSV reader and the import's cell helpers: any bytes
 * (any encoding, any quoting) must be read or refused without a crash, a
 * leak or undefined behaviour, and every field must be NUL-terminated
 * within the reader's buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "csv.h"
#include "registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    csv_reader r;
    werr e = {0};
    if (csv_open(&r, (const char *)data, size, &e) != WOK) {
        csv_close(&r);
        return 0;
    }
    int rc;
    int records = 0;
    while ((rc = csv_next(&r)) == 1 && records++ < 100000) {
        for (int i = 0; i < r.nfields; i++) {
            if (strlen(r.fields[i]) != r.lens[i] && memchr(r.fields[i], 0, r.lens[i]) == NULL)
                __builtin_trap();
            char d[11];
            reg_parse_date(reg_clean_cell(r.fields[i]), d);
        }
    }
    csv_close(&r);
    return 0;
}
