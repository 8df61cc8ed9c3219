/*
 * assessment — the monthly assessment score (考核评价) of departments and
 * of streets/communities: a weighted composite of indicator rates minus
 * deductions (扣分: 乱吹哨, late signing, 推诿扯皮, overdue), with rankings
 * and a breakdown of where every point went.
 *
 * The rules are a setting (key "assessment.rules" in the versioned
 * settings table of 001_core.sql). A month is scored by the version in
 * force at the end of that month, so that a closed month keeps its score
 * when the rules change; the current month is scored by the newest rules
 * and changes with them. New versions may not start before the current
 * month (closed months cannot be rewritten). See docs/indicators.md.
 *
 * Rules JSON:
 *   {"weights": {"response_rate": 10, "completion_rate": 45,
 *                "satisfaction_rate": 45, "ontime_rate": 0, ...},
 *    "deductions": {"improper_whistle": 0.5, "late_signing": 0.5,
 *                   "repeated_returns": 1, "overdue_completion": 1},
 *    "deduction_cap": 20}
 */
#ifndef WHISTLE_ASSESSMENT_H
#define WHISTLE_ASSESSMENT_H

#include <jansson.h>

#include "audit.h"
#include "err.h"
#include "store.h"

#define ASSESS_RULES_KEY "assessment.rules"

/* Validates a rules document (weights are rate names with weights 0–100,
 * summing to more than 0; deduction points 0–100 per known kind). */
int assessment_rules_validate(json_t *rules, werr *e);
/* The rules in force for month yyyymm: {valid_from, rules} (built-in
 * defaults with valid_from null when none was stored). */
int assessment_rules_for_month(db *d, int month, json_t **out, werr *e);
/* Every stored version, newest first. */
int assessment_rules_history(db *d, json_t **out, werr *e);
/* Stores a new version valid from valid_from (RFC 3339; NULL: now).
 * W_EINVALID when valid_from lies before the current month. */
int assessment_rules_save(store *st, const audit_actor *a, json_t *rules,
                          const char *valid_from, json_t **out, werr *e);

enum { ASSESS_DEPT = 0, ASSESS_STREET, ASSESS_COMMUNITY };
/* "dept" | "street" | "community" → ASSESS_*, -1 when unknown. */
int assessment_kind_parse(const char *s);

/* The scores of one month: {month, kind, rules:{valid_from, …},
 * items:[{subject, label, rank, score, points, deductions, components:[…],
 * deduction_items:[…], indicators}]} ranked best first. with_now: the
 * departments' indicators also carry the balances of now (overdue_now,
 * unsigned_overdue_now: two counts over the city's held orders), which the
 * score does not use; the /assessment API shows them, the rankings of the
 * dashboard and the monthly report do not. */
int assessment_month(db *d, int month, int kind, int64_t now, int with_now, json_t **out,
                     werr *e);

#endif
