// perm.js — which screens a role may open. A mirror of the role → grants
// table in src/perm.c, used ONLY to decide what to show; the server checks
// every request itself (a hidden button is a convenience, not a guard).

const GRANTS = {
  resident: ['order.report', 'order.rate', 'order.mine'],
  representative: ['order.report', 'order.rate', 'order.mine', 'order.read', 'catalog.read', 'grid.read'],
  grid_worker: ['order.report', 'order.read', 'order.onsite', 'order.verify', 'order.rate', 'order.mine',
    'grid.read', 'registry.read', 'registry.write', 'registry.unmask', 'visit.write', 'catalog.read',
    'roster.read', 'ledger.read', 'stats.read'],
  community_staff: ['order.report', 'order.read', 'order.accept', 'order.onsite', 'order.verify',
    'order.dispatch', 'order.escalate', 'order.mine', 'grid.read', 'registry.read', 'registry.write',
    'registry.unmask', 'registry.import', 'visit.write', 'catalog.read', 'roster.read', 'ledger.read',
    'ledger.write', 'stats.read', 'report.read', 'module.*'],
  street_staff: ['order.report', 'order.read', 'order.accept', 'order.dispatch', 'order.verify',
    'order.escalate', 'order.approve', 'order.mine', 'grid.read', 'registry.read', 'registry.unmask',
    'catalog.read', 'roster.read', 'ledger.read', 'ledger.write', 'stats.read', 'report.read',
    'supervision.read'],
  dispatcher: ['order.report', 'order.read', 'order.accept', 'order.dispatch', 'order.approve',
    'order.verify', 'order.escalate', 'order.supervise', 'order.mine', 'grid.read', 'registry.read',
    'catalog.read', 'roster.read', 'ledger.read', 'ledger.write', 'stats.read', 'report.read',
    'supervision.read', 'supervision.write'],
  department_handler: ['order.read', 'order.handle', 'order.mine', 'grid.read', 'catalog.read',
    'roster.read', 'stats.read', 'supervision.read', 'supervision.answer'],
  leader: ['order.read', 'grid.read', 'catalog.read', 'roster.read', 'ledger.read', 'stats.read',
    'report.read', 'supervision.read'],
  inspector: ['order.read', 'grid.read', 'catalog.read', 'roster.read', 'ledger.read', 'stats.read',
    'report.read', 'supervision.read', 'audit.read'],
  admin: ['*'],
  device: ['order.report', 'order.mine', 'catalog.read'],
};

export function can(user, perm) {
  if (!user) return false;
  // Prefer the server's own list when /auth/me sends one.
  const list = Array.isArray(user.permissions) ? user.permissions : (GRANTS[user.role] || []);
  return list.some((g) => g === '*' || g === perm ||
    (g.endsWith('.*') && perm.startsWith(g.slice(0, -1))));
}
