/*
 * roster — 花名册 (issue 3 item 5): the staff and their duties per grid,
 * departments' and units' contact people (包保单位联系人), party
 * organisations mirroring the grid levels (街道党工委 → 社区党委 → 小区党支部
 * → 楼栋党小组) with members assigned to households (党员联系户), and
 * representatives (代表委员) who may blow the whistle.
 *
 * Duties per grid are stored in the GRID module's grid_duties table (one
 * row per person, grid and duty; a person may hold several); the roster
 * reads them grouped by person and imports/exports them as "staff".
 */
#ifndef WHISTLE_ROSTER_H
#define WHISTLE_ROSTER_H

#include <jansson.h>
#include <stdint.h>

#include "audit.h"
#include "err.h"
#include "perm.h"
#include "registry.h"
#include "store.h"

/* Staff grouped by person: {items:[{name, phone, user_id, duties:[{grid_code,
 * grid_name, duty, duty_label}]}]} for the grids under `grid` (NULL: the
 * caller's scope), optionally one duty. */
int roster_staff_list(db *d, const principal *who, const char *grid, const char *duty,
                      json_t **out, werr *e);

/* Import/export of "staff": columns 姓名, 联系电话, 职责, 所属网格. */
extern const reg_col roster_staff_cols[];
int roster_staff_check(const char *const *cells, werr *e);
int roster_staff_put(db *d, reg_grid_cache *gc, const reg_scope *sc, const char *const *cells,
                     int *what, int64_t *id, werr *e);
int roster_staff_export(db *d, const principal *who, table_sink *out, int64_t *rows, werr *e);

/* Department contacts (包保单位联系人). */
int roster_contact_add(store *st, const audit_actor *a, int64_t dept_id, const char *name,
                       const char *title, const char *phone, int64_t *id, werr *e);
int roster_contacts(db *d, int64_t dept_id, json_t **out, werr *e);

/* Party organisations. level: working_committee 街道党工委, committee 社区党委,
 * branch 小区党支部, group 楼栋党小组 (key or label). */
typedef struct party_org_input {
    int64_t parent_id;
    const char *grid;      /* grid code */
    const char *level;
    const char *name;
    const char *secretary;
} party_org_input;
int party_org_create(store *st, const audit_actor *a, const principal *who,
                     const party_org_input *in, int64_t *id, werr *e);
int party_org_list(db *d, const principal *who, const char *grid, json_t **out, werr *e);
int party_org_get(db *d, const principal *who, int64_t id, json_t **out, werr *e);
/* A member with the households they contact (党员联系户; array of ids, may be NULL). */
int party_member_add(store *st, const audit_actor *a, const principal *who, int64_t org_id,
                     const char *name, const char *phone, int64_t user_id, const char *role,
                     const json_t *households, int64_t *id, werr *e);

/* Representatives (代表委员). kind: party_congress 党代表, npc 人大代表,
 * cppcc 政协委员 (key or label). */
int representative_create(store *st, const audit_actor *a, const char *name, const char *phone,
                          int64_t user_id, const char *kind, const char *level,
                          const char *grid, int64_t *id, werr *e);
int representative_list(db *d, json_t **out, werr *e);

#endif
