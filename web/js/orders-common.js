// orders-common.js — words and small renderers shared by the queues, the
// order detail, the map and the dashboard.
import { h } from './dom.js';
import { t, tf, lang, extend } from '../i18n.js';
import { badge } from './ui.js';
import { get } from './api.js';
import { user } from '../app.js';
import { can } from './perm.js';

extend({
  'q.title': ['工单队列', 'Work-order queues'],
  'q.dispatch': ['待派遣', 'Dispatch'],
  'q.department': ['本部门工单', 'My department'],
  'q.grid': ['本网格上报', 'My grids'],
  'q.overdue': ['超期工单', 'Overdue'],
  'q.supervision': ['督办单', 'Supervision'],
  'q.mine': ['我上报的', 'Reported by me'],
  'q.all': ['全部工单', 'All orders'],
  'q.search': ['搜索内容', 'Search text'],
  'q.search.ph': ['问题描述、地址、编号', 'Description, address, code'],
  'q.category': ['事项类别', 'Category'],
  'q.state': ['状态', 'State'],
  'q.level': ['办理层级', 'Level'],
  'q.dept': ['承办部门', 'Department'],
  'q.from': ['上报起', 'Reported from'],
  'q.to': ['上报止', 'Reported until'],
  'q.keys': ['快捷键：j / k 上下移动，Enter 打开，/ 搜索，n / p 翻页，r 刷新', 'Keys: j / k move, Enter opens, / search, n / p pages, r refresh'],
  'o.code': ['工单号', 'Order'],
  'o.reported': ['上报时间', 'Reported'],
  'o.category': ['事项', 'Category'],
  'o.desc': ['问题描述', 'Description'],
  'o.grid': ['网格', 'Grid'],
  'o.address': ['地址', 'Address'],
  'o.state': ['状态', 'State'],
  'o.dept': ['承办部门', 'Department'],
  'o.assist': ['协办部门', 'Assisting'],
  'o.deadline': ['办结时限', 'Due'],
  'o.response_deadline': ['签收时限', 'Sign-for due'],
  'o.urgency': ['紧急程度', 'Urgency'],
  'o.level': ['办理层级', 'Level'],
  'o.channel': ['来源', 'Channel'],
  'o.reporter': ['上报人', 'Reporter'],
  'o.overdue': ['超期', 'Overdue'],
  'o.pending': ['待审批', 'Waiting for approval'],
  'o.rating': ['评价', 'Rating'],
  'o.rating_default': ['超期未评，默认评价', 'default after silence'],
  'o.timeline': ['办理经过', 'Timeline'],
  'o.photos': ['照片', 'Photos'],
  'o.photos.report': ['上报照片', 'When reported'],
  'o.photos.feedback': ['处置照片', 'After handling'],
  'o.position': ['位置', 'Position'],
  'o.actions': ['可执行的操作', 'What you can do now'],
  'o.no_actions': ['当前没有您可执行的操作', 'Nothing for you to do now'],
  'o.anonymous': ['匿名', 'Anonymous'],
  'o.done': ['操作成功', 'Done'],
  'o.back': ['返回队列', 'Back to the queue'],
  'o.no_position': ['没有坐标', 'No coordinates'],
  'urgency.normal': ['一般', 'Normal'],
  'urgency.urgent': ['紧急', 'Urgent'],
  'urgency.emergency': ['特急', 'Emergency'],
  'level.community': ['社区', 'Community'],
  'level.street': ['街道', 'Street'],
  'level.county': ['县级', 'County'],
  'channel.resident_web': ['居民手机页', 'Residents\' page'],
  'channel.grid_app': ['网格员', 'Grid worker'],
  'channel.representative': ['代表委员', 'Representative'],
  'channel.hotline_12345': ['12345 热线', '12345 hotline'],
  'channel.device': ['设备', 'Device'],
  'channel.staff': ['工作人员', 'Staff'],
  'channel.open311': ['Open311', 'Open311'],
  'pending.return': ['退单申请', 'Return requested'],
  'pending.extension': ['延期申请', 'Extension requested'],
  // actions (buttons) — keyed by the API name
  'act.accept': ['立案', 'Accept'],
  'act.reject': ['不予立案', 'Reject'],
  'act.merge': ['合并重复', 'Merge as duplicate'],
  'act.onsite': ['即时办结', 'Resolve on site'],
  'act.dispatch': ['派遣', 'Dispatch'],
  'act.sign': ['签收', 'Sign for'],
  'act.return': ['申请退单', 'Ask to return'],
  'act.return-approve': ['同意退单', 'Approve return'],
  'act.return-refuse': ['驳回退单', 'Refuse return'],
  'act.extend': ['申请延期', 'Ask for more time'],
  'act.extend-approve': ['同意延期', 'Approve extension'],
  'act.extend-refuse': ['驳回延期', 'Refuse extension'],
  'act.feedback': ['反馈结果', 'Feed back'],
  'act.verify': ['核实通过，结案', 'Verified: close'],
  'act.verify-pass': ['核实通过，结案', 'Verified: close'],
  'act.verify-fail': ['核实不通过，返工', 'Not fixed: rework'],
  'act.rate': ['评价', 'Rate'],
  'act.escalate': ['提交上级', 'Escalate'],
  'act.reopen': ['重新办理', 'Reopen'],
  'act.confirm': ['确定要“{a}”工单 {c}？', '“{a}” order {c}?'],
  'sup.reason': ['督办原因', 'Reason'],
  'sup.answer': ['答复', 'Answer'],
  'sup.code': ['督办单号', 'Notice'],
  'sup.kind': ['类型', 'Kind'],
  'sup.issued': ['下发时间', 'Issued'],
  'sup.due': ['答复期限', 'Answer due'],
  'sup.do_answer': ['答复', 'Answer'],
  'sup.do_close': ['办结督办', 'Close'],
  'sup.issue': ['督办', 'Supervise'],
  'sup.hours': ['答复时限（小时）', 'Answer within (hours)'],
  'sup.state.issued': ['已下发', 'Issued'],
  'sup.state.answered': ['已答复', 'Answered'],
  'sup.state.closed': ['已办结', 'Closed'],
  'sup.list': ['督办记录', 'Supervision notices'],
  'f.note': ['说明', 'Note'],
  'f.reason': ['理由', 'Reason'],
  'f.dept': ['主办部门', 'Lead department'],
  'f.assist': ['协办部门（可多选）', 'Assisting departments (any)'],
  'f.merge_into': ['合并到工单（编号或工单号）', 'Merge into order (id or code)'],
  'f.hours': ['延长小时数', 'Extra hours'],
  'f.rating': ['评价', 'Rating'],
  'f.photos': ['照片', 'Photos'],
  'f.suggested': ['（事项清单建议）', '(catalogue suggests)'],
});

export function stateLabel(o) {
  const s = typeof o === 'string' ? o : o.state;
  return tf('state.' + s, (o && o.state_label) || s);
}

const STATE_KIND = {
  submitted: 'amber', accepted: 'amber', dispatched: 'blue', signed: 'blue', feedback: 'blue', rework: 'red',
  closed: 'green', rated: 'green', onsite_resolved: 'green', rejected: '', merged: '',
};
export function stateBadge(o) {
  return badge(stateLabel(o), STATE_KIND[typeof o === 'string' ? o : o.state] || '');
}

export function isOverdue(o) {
  if (o.overdue !== undefined) return !!o.overdue;
  return false;
}

// The catalogue (code → category), loaded once per page load: orders carry
// only their category code.
let catalog = null, catalogP = null;
export function ensureCatalog() {
  if (catalog) return Promise.resolve(catalog);
  if (!catalogP) {
    catalogP = get('/api/v1/catalog').then((doc) => {
      const map = new Map();
      const walk = (list, parent) => {
        for (const c of list || []) {
          map.set(c.code, { ...c, parent: parent ? parent.code : (c.parent || null) });
          walk(c.children, c);
        }
      };
      walk(doc.categories || doc.items || []);
      catalog = { doc, map, tops: (doc.categories || []).filter((c) => !c.parent) };
      return catalog;
    }).catch(() => { catalog = { doc: null, map: new Map(), tops: [] }; return catalog; });
  }
  return catalogP;
}
export function catalogNow() { return catalog; }

export function catNameOf(code) {
  if (!code) return '—';
  const c = catalog && catalog.map.get(code);
  if (!c) return code;
  const nm = (x) => (lang() === 'en' && x.name_en ? x.name_en : x.name);
  const p = c.parent && catalog.map.get(c.parent);
  return p ? `${nm(p)} · ${nm(c)}` : nm(c);
}

export function catName(o) {
  if (o.category && typeof o.category === 'object') return lang() === 'en' && o.category.name_en ? o.category.name_en : o.category.name;
  return catNameOf(o.category_code || o.category);
}

// Grid names: orders carry only the grid code; names are fetched once per
// code for callers whose scope covers grids (a department handler's scope
// does not, so it sees codes).
const gridNames = new Map();
export function gridLabel(code) {
  if (!code) return '';
  const g = gridNames.get(code);
  return g && g.name ? g.name : code;
}
export async function loadGridNames(codes) {
  const u = user();
  if (!u || !(u.scope_kind === 'all' || u.scope_kind === 'grid') || !can(u, 'grid.read')) return false;
  const want = [...new Set(codes.filter((c) => c && !gridNames.has(c)))];
  if (!want.length) return false;
  await Promise.all(want.map(async (c) => {
    gridNames.set(c, {});
    try { gridNames.set(c, await get('/api/v1/grids/' + encodeURIComponent(c))); } catch { /* keep the code */ }
  }));
  return true;
}
export function gridInfo(code) { return gridNames.get(code) || null; }

export function deptName(o) {
  const d = o.department || o.lead_department || o.dept;
  if (d && typeof d === 'object') return lang() === 'en' && d.name_en ? d.name_en : d.name;
  return o.department_name || o.dept_name || d || '';
}

export function gridName(o) {
  if (o.grid && typeof o.grid === 'object') return o.grid.name || o.grid.code;
  return o.grid_name || gridLabel(o.grid_code) || '';
}

export function actionLabel(api) { return tf('act.' + api, api); }
export function urgencyLabel(u) { return u ? tf('urgency.' + u, u) : ''; }
export function levelLabel(l) { return l ? tf('level.' + l, l) : ''; }
export function channelLabel(c) { return c ? tf('channel.' + c, c) : ''; }

export function overdueBadge(o) { return isOverdue(o) ? badge(t('o.overdue'), 'red') : null; }

export function orderLink(o) {
  return h('a', { href: '#/orders/' + o.id }, o.code || String(o.id));
}
