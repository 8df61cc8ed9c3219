// dashboard.js — today's and this month's numbers, the 30-day trend, the
// department ranking, categories and hotspots (Chart.js), and a wall mode
// (#/wall) for the command centre's screen: full screen, large type,
// refreshed every minute.
import { h, clear, fmtPct, fmtTime } from './dom.js';
import { t, lang, extend } from '../i18n.js';
import { get } from './api.js';
import { table } from './ui.js';
import { loadChart } from './vendor.js';
import { ensureCatalog, catNameOf as catName0 } from './orders-common.js';

const catNameOf = (c) => (c ? catName0(c) : t('dash.uncategorised'));

extend({
  'dash.title': ['数据看板', 'Dashboard'],
  'dash.wall': ['大屏模式', 'Wall mode'],
  'dash.exit_wall': ['退出大屏', 'Leave wall mode'],
  'dash.fullscreen': ['全屏', 'Full screen'],
  'dash.today': ['今日', 'Today'],
  'dash.month': ['本月', 'This month'],
  'dash.received': ['受理问题', 'Received'],
  'dash.dispatched': ['派遣', 'Dispatched'],
  'dash.closed': ['办结', 'Closed'],
  'dash.onsite': ['即时办结', 'Resolved on site'],
  'dash.overdue_now': ['当前超期', 'Overdue now'],
  'dash.in_progress': ['在办', 'In progress'],
  'dash.overdue_done': ['超期办结', 'Closed late'],
  'dash.uncategorised': ['未分类', 'Not classified'],
  'dash.response_rate': ['按时签收率', 'Signed on time'],
  'dash.completion_rate': ['办结率', 'Closure rate'],
  'dash.ontime_rate': ['按期办结率', 'Closed on time'],
  'dash.satisfaction_rate': ['满意率', 'Satisfaction'],
  'dash.trend': ['近 30 天走势', 'The last 30 days'],
  'dash.ranking': ['部门考核排名（本月）', 'Department ranking (this month)'],
  'dash.categories': ['问题类别（本月）', 'Categories (this month)'],
  'dash.hotspots': ['问题热点（本月）', 'Hotspots (this month)'],
  'dash.score': ['得分', 'Score'],
  'dash.rank': ['名次', 'Rank'],
  'dash.dept': ['部门', 'Department'],
  'dash.count': ['数量', 'Count'],
  'dash.grid': ['网格', 'Grid'],
  'dash.category': ['类别', 'Category'],
  'dash.updated': ['更新于 {t}', 'Updated {t}'],
  'dash.chart_table': ['图表数据', 'Chart data'],
});

const COLORS = ['#1548a0', '#b42318', '#166534', '#8a5300', '#6a1b9a', '#00838f', '#c2185b', '#455a64', '#e65100', '#2e7d32'];

export default async function dashboardView(ctx) {
  const el = ctx.el;
  const charts = [];
  let timer = null;
  ctx.onCleanup(() => {
    charts.forEach((c) => c.destroy());
    clearInterval(timer);
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  });
  const [Chart] = await Promise.all([loadChart(), ensureCatalog()]);
  Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
  Chart.defaults.color = ctx.wall ? '#e8eef8' : '#1d2430';
  Chart.defaults.animation = false; // steadier for screens and screenshots

  async function draw() {
    const d = await get('/api/v1/stats/dashboard');
    charts.splice(0).forEach((c) => c.destroy());
    clear(el);
    const head = h('div.dash-head', h('h1', t('dash.title')),
      h('span.muted.updated', t('dash.updated', { t: fmtTime(d.now, true) })), h('div.spacer'),
      ctx.wall
        ? [h('button', { type: 'button', onclick: () => document.documentElement.requestFullscreen?.().catch(() => {}) }, t('dash.fullscreen')),
          h('a.button', { href: '#/dashboard' }, t('dash.exit_wall'))]
        : h('a.button', { href: '#/wall' }, t('dash.wall')));
    el.append(head);

    const kpi = (label, value, kind = '') => h('div.kpi' + (kind ? '.' + kind : ''), h('span.kpi-v', String(value ?? '—')), h('span.kpi-l', label));
    const td = d.today || {}, mo = d.month || {};
    el.append(h('section.kpis', { 'aria-label': t('dash.today') },
      h('h2', t('dash.today')),
      h('div.kpi-row',
        kpi(t('dash.received'), td.received), kpi(t('dash.dispatched'), td.dispatched), kpi(t('dash.closed'), td.closed),
        kpi(t('dash.onsite'), td.onsite), kpi(t('dash.overdue_now'), mo.overdue_now ?? td.overdue_now, (mo.overdue_now || td.overdue_now) ? 'bad' : ''),
        kpi(t('dash.in_progress'), mo.in_progress_end))));
    el.append(h('section.kpis', { 'aria-label': t('dash.month') },
      h('h2', t('dash.month')),
      h('div.kpi-row',
        kpi(t('dash.received'), mo.received), kpi(t('dash.closed'), mo.closed),
        kpi(t('dash.response_rate'), fmtPct(mo.response_rate)), kpi(t('dash.completion_rate'), fmtPct(mo.completion_rate)),
        kpi(t('dash.ontime_rate'), fmtPct(mo.ontime_rate)), kpi(t('dash.satisfaction_rate'), fmtPct(mo.satisfaction_rate)))));

    const grid = h('div.dash-grid');
    el.append(grid);
    const panel = (title, id, tableNode) => {
      const canvas = h('canvas', { id, role: 'img', 'aria-label': title });
      const box = h('section.card.chart', h('h2', title), h('div.chart-box', canvas));
      if (tableNode) box.append(h('details.chart-data', h('summary', t('dash.chart_table')), tableNode));
      grid.append(box);
      return canvas;
    };

    // trend
    const trend = d.trend || [];
    const series = [['received', t('dash.received')], ['dispatched', t('dash.dispatched')], ['closed', t('dash.closed')], ['overdue', t('dash.overdue_done')]];
    const c1 = panel(t('dash.trend'), 'chart-trend');
    charts.push(new Chart(c1, {
      type: 'line',
      data: { labels: trend.map((x) => x.date.slice(5)), datasets: series.map(([k, label], i) => ({ label, data: trend.map((x) => x[k] || 0), borderColor: COLORS[i], backgroundColor: COLORS[i], tension: 0.25, pointRadius: 2 })) },
      options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }, plugins: { legend: { position: 'bottom' } } },
    }));

    // ranking
    const rank = (d.ranking || []).slice().sort((a, b) => (b.score ?? -1) - (a.score ?? -1));
    const rankTable = table([
      { key: 'rank', label: t('dash.rank'), cls: 'num', render: (r) => r.rank ?? '—' },
      { key: 'label', label: t('dash.dept') },
      { key: 'score', label: t('dash.score'), cls: 'num', render: (r) => (r.score === null || r.score === undefined ? '—' : Number(r.score).toFixed(1)) },
    ], rank);
    const c2 = panel(t('dash.ranking'), 'chart-ranking', rankTable);
    charts.push(new Chart(c2, {
      type: 'bar',
      data: { labels: rank.map((r) => r.label.replace(/^县/, '')), datasets: [{ label: t('dash.score'), data: rank.map((r) => r.score ?? 0), backgroundColor: '#1548a0' }] },
      options: { indexAxis: 'y', maintainAspectRatio: false, scales: { x: { beginAtZero: true, suggestedMax: 100 } }, plugins: { legend: { display: false } } },
    }));

    // categories
    const cats = (d.categories || []).slice().sort((a, b) => b.received - a.received).slice(0, 10);
    const catTable = table([
      { key: 'category', label: t('dash.category'), render: (c) => catNameOf(c.category) },
      { key: 'received', label: t('dash.received'), cls: 'num' },
      { key: 'closed', label: t('dash.closed'), cls: 'num' },
    ], cats);
    const c3 = panel(t('dash.categories'), 'chart-categories', catTable);
    charts.push(new Chart(c3, {
      type: 'doughnut',
      data: { labels: cats.map((c) => catNameOf(c.category).split(' · ').pop()), datasets: [{ data: cats.map((c) => c.received), backgroundColor: cats.map((_, i) => COLORS[i % COLORS.length]) }] },
      options: { maintainAspectRatio: false, plugins: { legend: { position: window.innerWidth < 600 ? 'bottom' : 'right' } } },
    }));

    // hotspots
    grid.append(h('section.card', h('h2', t('dash.hotspots')), table([
      { key: 'name', label: t('dash.grid'), render: (x) => x.name || x.grid },
      { key: 'category', label: t('dash.category'), render: (x) => catNameOf(x.category) },
      { key: 'count', label: t('dash.count'), cls: 'num' },
    ], d.hotspots || [])));
  }

  await draw();
  if (ctx.wall) timer = setInterval(() => { draw().catch(() => {}); }, 60000);
}
