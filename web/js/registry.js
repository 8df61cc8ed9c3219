// registry.js — the registry and roster (基础信息、花名册): the grid tree,
// people, households, buildings, organisations, enterprises and facilities
// with fields masked exactly as the API returns them; the roster of staff
// and duties; households due for a visit; import with a dry-run report
// shown line by line; export; printable contact cards per grid.
import { h, clear, fmtTime, fmtDate } from './dom.js';
import { t, lang, extend } from '../i18n.js';
import { get, api, items } from './api.js';
import { table, pager, fill, field, input, select, tabs, badge, toast, errorBox } from './ui.js';

extend({
  'reg.title': ['基础信息', 'Registry'],
  'reg.grids': ['网格', 'Grids'],
  'reg.people': ['实有人口', 'People'],
  'reg.households': ['住户', 'Households'],
  'reg.buildings': ['楼栋房屋', 'Buildings'],
  'reg.organisations': ['单位组织', 'Organisations'],
  'reg.enterprises': ['企业商铺', 'Enterprises'],
  'reg.facilities': ['公共设施', 'Facilities'],
  'reg.roster': ['花名册', 'Roster'],
  'reg.visits': ['待走访', 'Visits due'],
  'reg.import': ['导入', 'Import'],
  'reg.export': ['导出', 'Export'],
  'reg.q': ['姓名、电话、身份证号或地址', 'Name, phone, ID number or address'],
  'reg.grid': ['网格编码', 'Grid code'],
  'reg.tag': ['关爱标签', 'Care tag'],
  'reg.name': ['姓名', 'Name'],
  'reg.gender': ['性别', 'Gender'],
  'reg.birth': ['出生日期', 'Born'],
  'reg.id_number': ['身份证号', 'ID number'],
  'reg.phone': ['电话', 'Phone'],
  'reg.residence': ['户籍类别', 'Residence'],
  'reg.tags': ['标签', 'Tags'],
  'reg.address': ['地址', 'Address'],
  'reg.head': ['户主', 'Head'],
  'reg.members': ['人数', 'Members'],
  'reg.duties': ['职责', 'Duties'],
  'reg.kind': ['类别', 'Kind'],
  'reg.children': ['下级', 'Below'],
  'reg.cards': ['打印联系卡', 'Print contact cards'],
  'reg.expand': ['展开 {v}', 'Expand {v}'],
  'reg.collapse': ['收起 {v}', 'Collapse {v}'],
  'reg.imp.kind': ['导入内容', 'What to import'],
  'reg.imp.file': ['文件（CSV，UTF-8 或 GBK；网格也可用 GeoJSON）', 'File (CSV in UTF-8 or GBK; grids also GeoJSON)'],
  'reg.imp.dry': ['试导入（只检查，不写入）', 'Dry run (check only)'],
  'reg.imp.commit': ['确认导入', 'Import for real'],
  'reg.imp.report': ['导入检查结果', 'Import report'],
  'reg.imp.rows': ['共 {n} 行', '{n} rows'],
  'reg.imp.created': ['新增 {n}', '{n} new'],
  'reg.imp.updated': ['更新 {n}', '{n} updated'],
  'reg.imp.unchanged': ['不变 {n}', '{n} unchanged'],
  'reg.imp.errors': ['错误 {n} 行：全部改正后才能导入（全部导入或全部不导入）', '{n} bad rows: fix them all first (all or nothing)'],
  'reg.imp.ok': ['检查通过，可以导入', 'All rows are good: ready to import'],
  'reg.imp.done': ['导入完成', 'Imported'],
  'reg.imp.line': ['行号', 'Line'],
  'reg.imp.message': ['问题', 'Problem'],
  'reg.imp.columns': ['识别的列', 'Columns recognised'],
  'reg.imp.ignored': ['忽略的列', 'Columns ignored'],
  'reg.imp.encoding': ['编码', 'Encoding'],
  'reg.exp.csv': ['CSV', 'CSV'],
  'reg.exp.xlsx': ['Excel', 'Excel'],
  'reg.days_since': ['距上次走访（天）', 'Days since the last visit'],
  'reg.never': ['从未走访', 'Never visited'],
  'kind.staff': ['网格工作人员', 'Staff'],
  'kind.grids': ['网格（含边界）', 'Grids (with boundaries)'],
});

const PLACE_KINDS = ['buildings', 'organisations', 'enterprises', 'facilities'];
// Field labels for the registry's places (the API's column names).
const FIELD_ZH = {
  code: ['编码', 'Code'], name: ['名称', 'Name'], grid: ['网格', 'Grid'], compound: ['小区', 'Compound'],
  address: ['地址', 'Address'], purpose: ['用途', 'Use'], structure: ['结构', 'Structure'], floors: ['层数', 'Floors'],
  units: ['单元数', 'Units'], households: ['户数', 'Households'], built_year: ['建成年份', 'Built'], owner: ['产权单位', 'Owner'],
  kind: ['类别', 'Kind'], contact: ['负责人', 'Contact'], phone: ['电话', 'Phone'], staff_count: ['从业人数', 'Staff'],
  industry: ['行业', 'Industry'], legal_rep: ['法定代表人', 'Legal representative'], employees: ['从业人数', 'Employees'],
  risk: ['风险等级', 'Risk'], owner_dept: ['权属单位', 'Owner'], status: ['状态', 'Status'],
};
const fieldLabel = (k) => (FIELD_ZH[k] ? FIELD_ZH[k][lang() === 'en' ? 1 : 0] : k);
const gridText = (g) => (g && typeof g === 'object' ? (g.name || g.code) : (g || ''));
const valText = (v) => (v === null || v === undefined ? '' : typeof v === 'object' ? (v.name || v.label || v.code || JSON.stringify(v)) : String(v));

export default async function registryView(ctx) {
  const canReg = ctx.can('registry.read');
  const list = [
    ctx.can('grid.read') && 'grids',
    canReg && 'people', canReg && 'households',
    ...(canReg ? PLACE_KINDS : []),
    canReg && 'visits',
    ctx.can('roster.read') && 'roster',
    (ctx.can('registry.import') || ctx.can('grid.admin')) && 'import',
    canReg && 'export',
  ].filter(Boolean);
  const cur = list.includes(ctx.params[0]) ? ctx.params[0] : list[0];
  const body = h('section');
  ctx.el.append(h('h1', t('reg.title')),
    tabs(list.map((k) => ({ href: '#/registry/' + k, label: t('reg.' + k), active: k === cur })), t('reg.title')), body);
  if (cur === 'grids') return gridTree(body, ctx);
  if (cur === 'people') return people(body);
  if (cur === 'households') return households(body);
  if (PLACE_KINDS.includes(cur)) return places(body, cur);
  if (cur === 'visits') return visits(body);
  if (cur === 'roster') return roster(body);
  if (cur === 'import') return importer(body, ctx);
  if (cur === 'export') return exporter(body);
}

// A searchable, cursor-paged list.
function searchable(el, { fields, load, columns, caption }) {
  const state = { cursors: [0], page: 1, q: {} };
  const controls = fields.map((f) => ({ ...f, el: input({ name: f.name, type: f.type || 'search', placeholder: f.placeholder || '' }) }));
  const form = h('form.toolbar', { role: 'search' }, controls.map((c) => field(c.label, c.el)), h('button.primary', { type: 'submit' }, t('common.search')));
  const box = h('div');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    state.q = Object.fromEntries(controls.map((c) => [c.name, c.el.value.trim()]));
    state.cursors = [0]; state.page = 1;
    go();
  });
  el.append(form, box);
  async function go() {
    await fill(box, async () => {
      const r = await load({ ...state.q, cursor: state.cursors[state.page - 1] || undefined, limit: 50 });
      return h('div', table(columns, items(r), { caption }),
        pager({ page: state.page, pageSize: 50, total: null, hasNext: !!r.next_cursor, onPage: (p) => { if (p > state.page) state.cursors[p - 1] = r.next_cursor; state.page = p; go(); } }));
    });
  }
  return go();
}

// ---- the grid tree --------------------------------------------------------------

async function gridTree(el, ctx) {
  const tree = h('ul.tree', { role: 'tree', 'aria-label': t('reg.grids') });
  const detail = h('aside.card.tree-detail', { 'aria-live': 'polite' }, h('p.muted', t('map.pick')));
  el.append(h('div.tree-wrap', h('div.card', tree), detail));
  const roots = items(await get('/api/v1/grids'));
  for (const g of roots) tree.append(node(g, 1));
  const first = tree.querySelector('[role=treeitem]');
  if (first) first.tabIndex = 0;

  function node(g, level) {
    const li = h('li', { role: 'treeitem', 'aria-level': String(level), 'aria-expanded': g.children ? 'false' : null, tabIndex: -1, dataset: { code: g.code } });
    const toggle = g.children ? h('button.tw', { type: 'button', tabIndex: -1, 'aria-label': t('reg.expand', { v: g.name }), onclick: (e) => { e.stopPropagation(); flip(); } }, '▸') : h('span.tw', ' ');
    const label = h('span.tl', h('strong', g.name), ' ', h('span.muted', `${g.level ? (lang() === 'en' ? g.level.name : g.level.label_zh) : ''} · ${g.code}`),
      g.people ? h('span.badge', `${g.people}${lang() === 'en' ? ' people' : '人'}`) : null);
    const sub = h('ul', { role: 'group', hidden: true });
    li.append(h('div.row-node', toggle, label), sub);
    let loaded = false;
    async function flip(force) {
      const open = force ?? li.getAttribute('aria-expanded') !== 'true';
      if (!g.children) return;
      if (open && !loaded) {
        loaded = true;
        const kids = items(await get('/api/v1/grids', { parent: g.code }));
        for (const k of kids) sub.append(node(k, level + 1));
      }
      li.setAttribute('aria-expanded', open ? 'true' : 'false');
      sub.hidden = !open;
      toggle.textContent = open ? '▾' : '▸';
      toggle.setAttribute('aria-label', t(open ? 'reg.collapse' : 'reg.expand', { v: g.name }));
    }
    li.addEventListener('click', (e) => { e.stopPropagation(); select(li, g); });
    li.addEventListener('keydown', (e) => {
      if (e.target !== li) return;
      const all = [...tree.querySelectorAll('[role=treeitem]')].filter((x) => !x.closest('ul[hidden]'));
      const i = all.indexOf(li);
      if (e.key === 'ArrowDown' && all[i + 1]) { focus(all[i + 1]); e.preventDefault(); }
      else if (e.key === 'ArrowUp' && all[i - 1]) { focus(all[i - 1]); e.preventDefault(); }
      else if (e.key === 'ArrowRight') { flip(true); e.preventDefault(); }
      else if (e.key === 'ArrowLeft') { if (li.getAttribute('aria-expanded') === 'true') flip(false); else { const p = li.parentElement.closest('[role=treeitem]'); if (p) focus(p); } e.preventDefault(); }
      else if (e.key === 'Enter' || e.key === ' ') { select(li, g); e.preventDefault(); }
    });
    return li;
  }
  function focus(li) {
    for (const x of tree.querySelectorAll('[role=treeitem]')) x.tabIndex = -1;
    li.tabIndex = 0;
    li.focus();
  }
  async function select(li, g) {
    for (const x of tree.querySelectorAll('[aria-selected=true]')) x.removeAttribute('aria-selected');
    li.setAttribute('aria-selected', 'true');
    focus(li);
    await fill(detail, async () => {
      const d = await get('/api/v1/grids/' + encodeURIComponent(g.code));
      return h('div',
        h('h2', d.name),
        h('p.muted', (d.path || []).map((p) => p.name).join(' › ')),
        h('dl.kv',
          h('dt', t('common.code')), h('dd', h('code', d.code)),
          h('dt', t('reg.kind')), h('dd', d.kind_label || d.kind),
          h('dt', t('map.households')), h('dd', String(d.households ?? '')),
          h('dt', t('map.people')), h('dd', String(d.people ?? '')),
          d.dept ? [h('dt', t('map.dept')), h('dd', d.dept.name)] : null,
          d.status !== 'active' ? [h('dt', t('common.status')), h('dd', badge(d.status, 'amber'))] : null),
        h('h3', t('map.duties')),
        (d.duties || []).length ? h('ul.duties', d.duties.map((x) => h('li', h('strong', x.duty_label || x.duty), ' ', x.name || '', x.phone ? h('span.muted', ' ' + x.phone) : null))) : h('p.muted', t('common.none')),
        h('p', h('a.button', { href: `/api/v1/grids/${encodeURIComponent(d.code)}/cards`, target: '_blank', rel: 'noopener', id: 'cards-link' }, t('reg.cards'))));
    });
  }
}

// ---- people, households, places ---------------------------------------------------

// The registry's codes in people's words (src/registry.c care_tags).
const CARE = {
  elderly_alone: ['独居老人', 'Elderly living alone'], elderly_empty_nest: ['空巢老人', 'Empty-nest elderly'],
  elderly_80: ['高龄老人', 'Aged 80+'], disabled: ['残疾人', 'Disabled'], low_income: ['低保', 'Low income'],
  extreme_poverty: ['特困人员', 'Extreme poverty'], left_behind_child: ['留守儿童', 'Left-behind child'],
  veteran: ['退役军人', 'Veteran'], serious_illness: ['大病患者', 'Serious illness'],
  mental_disorder: ['严重精神障碍患者', 'Severe mental disorder'], community_correction: ['社区矫正人员', 'Community correction'],
  released_prisoner: ['刑满释放人员', 'Released prisoner'], drug_rehab: ['社区戒毒康复人员', 'Drug rehabilitation'],
  key_youth: ['重点青少年', 'Youth at risk'], special: ['特殊人群', 'Special group'],
  M: ['男', 'Male'], F: ['女', 'Female'], registered: ['户籍', 'Registered'], floating: ['流动', 'Floating'],
};
const word = (v) => (CARE[v] ? CARE[v][lang() === 'en' ? 1 : 0] : v);

function tagList(p) {
  const tags = Array.isArray(p.tags) ? p.tags : (p.tags ? String(p.tags).split(/[,，;；\s]+/).filter(Boolean) : []);
  return tags.map((x) => [badge(typeof x === 'object' ? (x.label || word(x.tag)) : word(x), 'blue'), ' ']);
}

function people(el) {
  return searchable(el, {
    caption: t('reg.people'),
    fields: [{ name: 'q', label: t('common.search'), placeholder: t('reg.q') }, { name: 'grid', label: t('reg.grid') }, { name: 'tag', label: t('reg.tag') }],
    load: (q) => get('/api/v1/people', q),
    columns: [
      { key: 'name', label: t('reg.name') },
      { key: 'gender', label: t('reg.gender'), render: (p) => word(p.gender) },
      { key: 'birth_date', label: t('reg.birth'), cls: 'nowrap' },
      { key: 'id_number', label: t('reg.id_number'), cls: 'nowrap', render: (p) => h('code', valText(p.id_number)) },
      { key: 'phone', label: t('reg.phone'), cls: 'nowrap', render: (p) => valText(p.phone) },
      { key: 'residence', label: t('reg.residence'), render: (p) => word(p.residence) },
      { key: 'tags', label: t('reg.tags'), render: tagList },
      { key: 'household', label: t('reg.address'), render: (p) => valText(p.household && (p.household.address || p.household)) },
      { key: 'grid', label: t('o.grid'), render: (p) => gridText(p.grid) },
    ],
  });
}

function households(el) {
  return searchable(el, {
    caption: t('reg.households'),
    fields: [{ name: 'address', label: t('reg.address') }, { name: 'grid', label: t('reg.grid') }],
    load: (q) => get('/api/v1/households', q),
    columns: [
      { key: 'address', label: t('reg.address'), render: (x) => valText(x.address || [x.compound, x.building, x.unit, x.room].filter(Boolean).join(' ')) },
      { key: 'head_name', label: t('reg.head'), render: (x) => valText(x.head_name || x.head) },
      { key: 'members', label: t('reg.members'), cls: 'num', render: (x) => valText(x.members ?? x.people) },
      { key: 'kind', label: t('reg.kind') },
      { key: 'grid', label: t('o.grid'), render: (x) => gridText(x.grid) },
    ],
  });
}

async function places(el, kind) {
  const SKIP = new Set(['id', 'created_at', 'updated_at', 'kind_label', 'extra', 'lat', 'lng']);
  const box = h('div');
  el.append(box);
  let cols = null;
  const columnsFor = (rows) => {
    const keys = [];
    for (const r of rows.slice(0, 20)) for (const k of Object.keys(r)) if (!SKIP.has(k) && !keys.includes(k)) keys.push(k);
    return keys.slice(0, 10).map((k) => ({ key: k, label: fieldLabel(k), render: (x) => (k === 'grid' ? gridText(x.grid) : k === 'kind' && x.kind_label ? x.kind_label : valText(x[k])) }));
  };
  const st = { cursors: [0], page: 1, q: '', grid: '' };
  const qIn = input({ type: 'search', name: 'q' });
  const gIn = input({ name: 'grid' });
  const form = h('form.toolbar', { role: 'search' }, field(t('common.search'), qIn), field(t('reg.grid'), gIn), h('button.primary', { type: 'submit' }, t('common.search')));
  form.addEventListener('submit', (e) => { e.preventDefault(); st.q = qIn.value.trim(); st.grid = gIn.value.trim(); st.cursors = [0]; st.page = 1; go(); });
  el.prepend(form);
  async function go() {
    await fill(box, async () => {
      const r = await get('/api/v1/registry/' + kind, { q: st.q, grid: st.grid, cursor: st.cursors[st.page - 1] || undefined, limit: 50 });
      const rows = items(r);
      cols = cols && cols.length ? cols : columnsFor(rows);
      return h('div', table(cols.length ? cols : [{ key: 'name', label: t('common.name') }], rows, { caption: t('reg.' + kind) }),
        pager({ page: st.page, pageSize: 50, total: null, hasNext: !!r.next_cursor, onPage: (p) => { if (p > st.page) st.cursors[p - 1] = r.next_cursor; st.page = p; go(); } }));
    });
  }
  await go();
}

async function visits(el) {
  const tagIn = input({ name: 'tag' });
  const box = h('div');
  const form = h('form.toolbar', field(t('reg.tag'), tagIn), h('button.primary', { type: 'submit' }, t('common.search')));
  form.addEventListener('submit', (e) => { e.preventDefault(); go(); });
  el.append(form, box);
  async function go() {
    await fill(box, async () => {
      const r = await get('/api/v1/visits/due', { tag: tagIn.value.trim(), limit: 100 });
      return table([
        { key: 'name', label: t('reg.name'), render: (x) => valText(x.name || x.head_name || (x.person && x.person.name)) },
        { key: 'address', label: t('reg.address'), render: (x) => valText(x.address || (x.household && x.household.address)) },
        { key: 'tags', label: t('reg.tags'), render: tagList },
        { key: 'days', label: t('reg.days_since'), cls: 'num', render: (x) => (x.days_since_visit === null || x.days_since_visit === undefined ? t('reg.never') : String(x.days_since_visit)) },
        { key: 'grid', label: t('o.grid'), render: (x) => gridText(x.grid) },
      ], items(r), { caption: t('reg.visits') });
    });
  }
  await go();
}

async function roster(el) {
  const box = h('div');
  el.append(box);
  await fill(box, async () => {
    const r = await get('/api/v1/roster', { limit: 500 });
    return table([
      { key: 'name', label: t('reg.name') },
      { key: 'phone', label: t('reg.phone'), cls: 'nowrap', render: (x) => valText(x.phone) },
      { key: 'duties', label: t('reg.duties'), render: (x) => (x.duties || []).map((d) => h('div', h('strong', d.duty_label || d.duty), ' · ', d.grid_name || d.grid_code, h('span.muted', ' ' + (d.grid_code || '')))) },
    ], items(r), { caption: t('reg.roster') });
  });
}

// ---- import (dry run first) and export ------------------------------------------------

function importKinds(ctx) {
  const k = [];
  if (ctx.can('registry.import')) k.push('people', 'households', ...PLACE_KINDS, 'staff');
  if (ctx.can('grid.admin')) k.push('grids');
  return k;
}

async function importer(el, ctx) {
  const kinds = importKinds(ctx);
  const kindSel = select(kinds.map((k) => ({ value: k, label: k === 'staff' || k === 'grids' ? t('kind.' + k) : t('reg.' + k) })), { name: 'kind', id: 'imp-kind' });
  const file = h('input', { type: 'file', id: 'imp-file', accept: '.csv,.txt,.geojson,.json,text/csv,application/json' });
  const dryBtn = h('button.primary', { type: 'submit', id: 'imp-dry' }, t('reg.imp.dry'));
  const commitBtn = h('button', { type: 'button', id: 'imp-commit', disabled: true }, t('reg.imp.commit'));
  const out = h('div', { id: 'imp-report', 'aria-live': 'polite' });
  const form = h('form.toolbar', field(t('reg.imp.kind'), kindSel), field(t('reg.imp.file'), file), dryBtn, commitBtn);
  el.append(form, out);
  let checked = null; // the file that passed the dry run
  const reset = () => { commitBtn.disabled = true; checked = null; };
  kindSel.addEventListener('change', reset);
  file.addEventListener('change', reset);

  async function send(dry) {
    const f = file.files[0];
    if (!f) { file.focus(); return; }
    const kind = kindSel.value;
    const geo = kind === 'grids' && /\.(geo)?json$/i.test(f.name);
    const path = kind === 'grids' ? '/api/v1/grids/import' : '/api/v1/import/' + kind;
    const query = kind === 'grids' ? { format: geo ? 'geojson' : 'csv', dry_run: dry ? 1 : undefined } : { dry_run: dry ? 1 : 0 };
    clear(out).append(h('p.loading', t('common.loading')));
    let report;
    try {
      report = await api('POST', path, f, { raw: true, query, headers: { 'Content-Type': geo ? 'application/geo+json' : 'text/csv' } });
    } catch (e) {
      if (e.body && e.body.report) report = e.body.report;
      else { clear(out).append(errorBox(e)); return; }
    }
    showReport(report, dry);
    const errs = report.error_count ?? (report.errors || []).length;
    if (dry && !errs) { checked = f; commitBtn.disabled = false; commitBtn.classList.add('primary'); }
    else reset();
    if (!dry && (report.committed || !errs)) toast(t('reg.imp.done'));
  }

  function showReport(r, dry) {
    const errs = r.errors || [];
    const n = r.error_count ?? errs.length;
    clear(out).append(h('section.card', { id: 'imp-result' },
      h('h2', t('reg.imp.report') + (dry ? '' : ' · ' + t('reg.imp.done'))),
      h('p', [t('reg.imp.rows', { n: r.rows ?? r.total ?? '?' }),
        r.created !== undefined ? ' · ' + t('reg.imp.created', { n: r.created }) : '',
        r.updated !== undefined ? ' · ' + t('reg.imp.updated', { n: r.updated }) : '',
        r.unchanged !== undefined ? ' · ' + t('reg.imp.unchanged', { n: r.unchanged }) : '',
        r.encoding ? ` · ${t('reg.imp.encoding')} ${r.encoding}` : ''].join('')),
      n ? h('p.error', { role: 'alert' }, t('reg.imp.errors', { n })) : h('p', badge(t('reg.imp.ok'), 'green')),
      r.columns && Object.keys(r.columns).length ? h('p.muted', `${t('reg.imp.columns')}：${(Array.isArray(r.columns) ? r.columns.map((c) => (typeof c === 'object' ? `${c.header}→${c.field}` : c)) : Object.entries(r.columns).map(([k, v]) => `${k}→${v}`)).join('，')}`) : null,
      Array.isArray(r.ignored_columns) && r.ignored_columns.length ? h('p.muted', `${t('reg.imp.ignored')}：${r.ignored_columns.join('，')}`) : null,
      errs.length ? table([
        { key: 'line', label: t('reg.imp.line'), cls: 'num' },
        { key: 'message', label: t('reg.imp.message'), render: (x) => [x.column ? h('strong', x.column + '：') : null, x.message] },
      ], errs.slice(0, 500)) : null));
  }

  form.addEventListener('submit', (e) => { e.preventDefault(); send(true); });
  commitBtn.addEventListener('click', () => { if (checked && file.files[0] === checked) send(false); });
}

function exporter(el) {
  const kinds = ['people', 'households', ...PLACE_KINDS];
  el.append(table([
    { key: 'k', label: t('reg.imp.kind'), render: (k) => t('reg.' + k) },
    { key: 'csv', label: t('reg.exp.csv'), render: (k) => h('a.button', { href: `/api/v1/export/${k}?format=csv`, download: `${k}.csv` }, t('common.download') + ' CSV') },
    { key: 'xlsx', label: t('reg.exp.xlsx'), render: (k) => h('a.button', { href: `/api/v1/export/${k}?format=xlsx`, download: `${k}.xlsx` }, t('common.download') + ' Excel') },
  ], kinds, { caption: t('reg.export') }),
  h('p', h('a.button', { href: '/api/v1/grids/export?format=csv', download: 'grids.csv' }, t('reg.grids') + ' CSV'), ' ',
    h('a.button', { href: '/api/v1/grids/export?format=geojson', download: 'grids.geojson' }, t('reg.grids') + ' GeoJSON')));
}

export { fmtTime, fmtDate };
