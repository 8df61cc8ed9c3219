#include "perm.h"

#include <string.h>

static const struct {
    const char *name, *zh;
} roles[ROLE__COUNT] = {
    [ROLE_NONE] = {"none", "无"},
    [ROLE_RESIDENT] = {"resident", "居民"},
    [ROLE_REPRESENTATIVE] = {"representative", "代表委员"},
    [ROLE_GRID_WORKER] = {"grid_worker", "网格员"},
    [ROLE_COMMUNITY] = {"community_staff", "社区工作人员"},
    [ROLE_STREET] = {"street_staff", "街道工作人员"},
    [ROLE_DISPATCHER] = {"dispatcher", "中心调度员"},
    [ROLE_DEPARTMENT] = {"department_handler", "部门承办人"},
    [ROLE_LEADER] = {"leader", "领导"},
    [ROLE_INSPECTOR] = {"inspector", "纪检监督"},
    [ROLE_ADMIN] = {"admin", "管理员"},
    [ROLE_DEVICE] = {"device", "设备"},
};

/*
 * The permission table. A permission is "area.verb"; a grant ending in
 * ".*" covers the whole area. Keep this table the single source of truth,
 * and keep docs/ARCHITECTURE.md's summary in step with it.
 */
static const char *const grants[ROLE__COUNT][32] = {
    [ROLE_RESIDENT] = {"order.report", "order.rate", "order.mine", NULL},
    [ROLE_REPRESENTATIVE] = {"order.report", "order.rate", "order.mine", "order.read",
                             "catalog.read", "grid.read", NULL},
    [ROLE_GRID_WORKER] = {"order.report", "order.read", "order.onsite", "order.verify",
                          "order.rate", "order.mine", "grid.read", "registry.read",
                          "registry.write", "registry.unmask", "visit.write", "catalog.read",
                          "roster.read", "ledger.read", "stats.read", NULL},
    [ROLE_COMMUNITY] = {"order.report", "order.read", "order.accept", "order.onsite",
                        "order.verify", "order.dispatch", "order.escalate", "order.mine",
                        "grid.read", "registry.read", "registry.write", "registry.unmask",
                        "registry.import", "visit.write", "catalog.read", "roster.read",
                        "ledger.read", "ledger.write", "stats.read", "report.read",
                        "module.*", NULL},
    [ROLE_STREET] = {"order.report", "order.read", "order.accept", "order.dispatch",
                     "order.verify", "order.escalate", "order.approve", "order.mine",
                     "grid.read", "registry.read", "registry.unmask", "catalog.read",
                     "roster.read", "ledger.read", "ledger.write", "stats.read", "report.read",
                     "supervision.read", NULL},
    [ROLE_DISPATCHER] = {"order.report", "order.read", "order.accept", "order.dispatch",
                         "order.approve", "order.verify", "order.escalate", "order.supervise",
                         "order.mine", "grid.read", "registry.read", "catalog.read",
                         "roster.read", "ledger.read", "ledger.write", "stats.read",
                         "report.read", "supervision.read", "supervision.write", NULL},
    [ROLE_DEPARTMENT] = {"order.read", "order.handle", "order.mine", "grid.read",
                         "catalog.read", "roster.read", "stats.read", "supervision.read",
                         "supervision.answer", NULL},
    [ROLE_LEADER] = {"order.read", "grid.read", "catalog.read", "roster.read", "ledger.read",
                     "stats.read", "report.read", "supervision.read", NULL},
    [ROLE_INSPECTOR] = {"order.read", "grid.read", "catalog.read", "roster.read",
                        "ledger.read", "stats.read", "report.read", "supervision.read",
                        "audit.read", NULL},
    [ROLE_ADMIN] = {"*", NULL},
    [ROLE_DEVICE] = {"order.report", "order.mine", "catalog.read", NULL},
};

const char *role_name(int role)
{
    return (role >= 0 && role < ROLE__COUNT) ? roles[role].name : "none";
}

const char *role_label_zh(int role)
{
    return (role >= 0 && role < ROLE__COUNT) ? roles[role].zh : "无";
}

int role_parse(const char *name)
{
    if (!name)
        return ROLE_NONE;
    for (int r = 1; r < ROLE__COUNT; r++)
        if (strcmp(roles[r].name, name) == 0)
            return r;
    return ROLE_NONE;
}

static const char *const scopes[] = {"all", "grid", "department", "self"};

const char *scope_name(int k)
{
    return (k >= 0 && k < 4) ? scopes[k] : "self";
}

int scope_parse(const char *name)
{
    for (int k = 0; name && k < 4; k++)
        if (strcmp(scopes[k], name) == 0)
            return k;
    return -1;
}

static int grant_matches(const char *grant, const char *perm)
{
    if (strcmp(grant, "*") == 0)
        return 1;
    size_t n = strlen(grant);
    if (n >= 2 && grant[n - 1] == '*' && grant[n - 2] == '.')
        return strncmp(grant, perm, n - 1) == 0;
    return strcmp(grant, perm) == 0;
}

const char *const *perm_grants(int role)
{
    static const char *const none[] = {NULL};
    return (role > ROLE_NONE && role < ROLE__COUNT) ? grants[role] : none;
}

int perm_allows(int role, const char *perm)
{
    if (strcmp(perm, PERM_PUBLIC) == 0)
        return 1;
    if (role <= ROLE_NONE || role >= ROLE__COUNT)
        return 0;
    if (strcmp(perm, PERM_LOGIN) == 0)
        return 1;
    for (int i = 0; grants[role][i]; i++)
        if (grant_matches(grants[role][i], perm))
            return 1;
    return 0;
}

int scope_covers_grid(const principal *p, const char *grid)
{
    if (p->scope_kind == SCOPE_ALL)
        return 1;
    if (p->scope_kind != SCOPE_GRID || !grid || !p->scope_grid[0])
        return 0;
    size_t n = strlen(p->scope_grid);
    return strncmp(p->scope_grid, grid, n) == 0;
}
