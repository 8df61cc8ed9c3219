// report.js — the monthly report (月专报) for any month: the server's
// report document rendered as a page that prints cleanly on A4 (repeating
// table heads, no row cut across pages), plus CSV and Excel downloads.
import { h, clear } from './dom.js';
import { t, lang, extend } from '../i18n.js';
import { get } from './api.js';
import { field, select } from './ui.js';

extend({
  'rep.title': ['月专报', 'Monthly report'],
  'rep.month': ['月份', 'Month'],
  'rep.print': ['打印 / 导出 PDF', 'Print / save as PDF'],
  'rep.csv': ['下载 CSV', 'Download CSV'],
  'rep.xlsx': ['下载 Excel', 'Download Excel'],
  'rep.empty': ['本月无', 'None this month'],
});

// The report's words come in both languages ("受理问题 received"): show the
// reader's.
export function bi(s) {
  if (typeof s !== 'string') return s;
  const m = /^([^A-Za-z]*[\u3000-\u9fff）)][^A-Za-z]*?)\s+([A-Za-z(][\w\s,.'’()&/+-]*)$/.exec(s);
  if (!m) return s;
  return lang() === 'en' ? m[2] : m[1];
}

function cell(v, type) {
  if (v === null || v === undefined) return '—';
  if (type === 'rate' && typeof v === 'number') return (v * 100).toFixed(1) + '%';
  if (type === 'score' && typeof v === 'number') return v.toFixed(1);
  if (typeof v === 'number' && !Number.isInteger(v)) return v.toFixed(2);
  if (typeof v === 'boolean') return v ? t('common.yes') : t('common.no');
  return bi(String(v));
}

function months() {
  const out = [];
  const d = new Date();
  for (let i = 0; i < 24; i++) {
    const y = d.getFullYear(), m = d.getMonth() + 1;
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    d.setMonth(d.getMonth() - 1);
  }
  return out;
}

export default async function reportView(ctx) {
  const el = ctx.el;
  const ms = months();
  const month = ctx.params[0] && /^\d{4}-\d{2}$/.test(ctx.params[0]) ? ctx.params[0] : ms[0];
  if (!ms.includes(month)) ms.unshift(month);
  const sel = select(ms.map((m) => ({ value: m, label: m })), { value: month, name: 'month', id: 'report-month' });
  sel.addEventListener('change', () => { location.hash = '#/report/' + sel.value; });
  const base = `/api/v1/reports/monthly?month=${month}`;
  el.append(h('div.toolbar.no-print',
    field(t('rep.month'), sel), h('div.spacer'),
    h('a.button', { href: base + '&format=csv', download: `monthly-report-${month}.csv`, id: 'dl-csv' }, t('rep.csv')),
    h('a.button', { href: base + '&format=xlsx', download: `monthly-report-${month}.xlsx`, id: 'dl-xlsx' }, t('rep.xlsx')),
    h('button.primary', { type: 'button', onclick: () => window.print() }, t('rep.print'))));
  const doc = await get('/api/v1/reports/monthly', { month, format: 'json' });
  const paper = h('article.report', { id: 'report' },
    h('header.report-head', h('h1', doc.title), h('p.muted', doc.subtitle)));
  for (const s of doc.sections || []) {
    const sec = h('section.report-sec', { id: 'sec-' + s.id }, h('h2', bi(s.title)));
    if (s.note) sec.append(h('p.muted.note', bi(s.note)));
    if (!s.rows || !s.rows.length) {
      sec.append(h('p.muted', t('rep.empty')));
    } else {
      const cols = s.columns || [];
      sec.append(h('table.grid.report-table',
        h('thead', h('tr', cols.map((c) => h('th', { scope: 'col', class: c.type !== 'text' ? 'num' : null }, bi(c.label))))),
        h('tbody', s.rows.map((r) => h('tr', (Array.isArray(r) ? r : cols.map((c) => r[c.key])).map((v, i) =>
          h('td', { class: cols[i] && cols[i].type !== 'text' && typeof v === 'number' ? 'num' : null }, cell(v, cols[i] && cols[i].type))))))));
    }
    paper.append(sec);
  }
  el.append(paper);
}
