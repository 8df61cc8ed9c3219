/*
 * perm — roles (SPEC §1), scopes and the permission table: the one place
 * that says which role may do what. The router calls perm_allows() for
 * every route; handlers never check roles themselves. Scope (which grids or
 * which department's data) is applied by the domain modules' queries using
 * the caller's principal.
 */
#ifndef WHISTLE_PERM_H
#define WHISTLE_PERM_H

#include <stdint.h>

enum role {
    ROLE_NONE = 0,
    ROLE_RESIDENT,       /* 群众 / 居民 */
    ROLE_REPRESENTATIVE, /* 代表委员 */
    ROLE_GRID_WORKER,    /* 网格员 / 网格长 / 微网格长 */
    ROLE_COMMUNITY,      /* 社区工作人员 */
    ROLE_STREET,         /* 街道 / 乡镇 */
    ROLE_DISPATCHER,     /* 治理服务中心 坐席 */
    ROLE_DEPARTMENT,     /* 报到部门 handler */
    ROLE_LEADER,         /* 县级领导 */
    ROLE_INSPECTOR,      /* 纪检 */
    ROLE_ADMIN,          /* 管理员 */
    ROLE_DEVICE,         /* 设备: cameras, sensors, 12345 hotline bridge */
    ROLE__COUNT
};

enum scope_kind {
    SCOPE_ALL = 0,   /* everything (county level) */
    SCOPE_GRID,      /* a grid and its subtree (scope_grid is its code) */
    SCOPE_DEPT,      /* one department (scope_dept) */
    SCOPE_SELF,      /* only what the account itself created (residents) */
};

/* Who is calling: resolved from a session cookie or a bearer token. */
typedef struct principal {
    int64_t user_id;
    char login[64];
    char name[128];
    int role;
    int scope_kind;
    char scope_grid[64];
    int64_t scope_dept;
    int via_token;       /* bearer token: no CSRF check */
    int64_t session_id;
    char csrf[65];
    int64_t touch_due; /* session's idle timer due for a refresh: the time to record (auth_touch) */
} principal;

/* Route permission that needs no login. */
#define PERM_PUBLIC "public"
/* Route permission that needs a login and nothing more. */
#define PERM_LOGIN "login"

const char *role_name(int role);          /* "dispatcher" */
const char *role_label_zh(int role);      /* "调度员" */
int role_parse(const char *name);         /* ROLE_NONE when unknown */
const char *scope_name(int scope_kind);
int scope_parse(const char *name);        /* -1 when unknown */

/* The role's grants (NULL-terminated; "*" and "area.*" are wildcards),
 * for clients that decide what to show. */
const char *const *perm_grants(int role);

/* 1 when role may use a route guarded by perm. */
int perm_allows(int role, const char *perm);

/* 1 when a grid with code `grid` lies in the principal's grid scope
 * (always 1 for SCOPE_ALL). */
int scope_covers_grid(const principal *p, const char *grid);

#endif
