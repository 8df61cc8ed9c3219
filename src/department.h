/*
 * department — departments and units (报到部门 / 包保单位) that work orders
 * are dispatched to and that stand behind grids.
 */
#ifndef WHISTLE_DEPARTMENT_H
#define WHISTLE_DEPARTMENT_H

#include <jansson.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "store.h"

typedef struct department_input {
    const char *code;    /* stable code, [A-Za-z0-9_.-] */
    const char *name;    /* 县城管局 */
    const char *name_en;
    const char *kind;    /* department | unit | enterprise */
    const char *contact;
    const char *phone;
} department_input;

int department_create(store *st, const audit_actor *a, const department_input *in, int64_t *id,
                      werr *e);
/* Inside a write transaction (for imports and the demo). */
int department_insert(db *d, const audit_actor *a, const department_input *in, int64_t *id,
                      werr *e);
int department_list(db *d, json_t **out, werr *e);
int department_id_by_code(db *d, const char *code, int64_t *id);

#endif
