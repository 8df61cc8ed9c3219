// i18n.js — the translation table for the whole web UI. Chinese (zh-CN)
// first, English second. Each key holds [zh, en] side by side so that the
// two languages stay in step. t('key', {n: 3}) fills {n}.
// Words for order states, actions and categories come from this table when
// it knows them, else from the label the API sends.

const T = {
  // shared
  'app.name': ['吹哨报到', 'Whistle'],
  'app.subtitle': ['网格化基层治理平台', 'Grid-based grassroots governance'],
  'lang.switch': ['English', '中文'],
  'lang.switch.label': ['切换语言', 'Switch language'],
  'common.loading': ['加载中…', 'Loading…'],
  'common.none': ['暂无数据', 'Nothing here'],
  'common.error': ['出错了：{msg}', 'Something went wrong: {msg}'],
  'common.unavailable': ['该功能的接口尚未开放', 'This function\'s API is not available yet'],
  'common.forbidden': ['您没有权限查看此内容', 'You are not allowed to see this'],
  'common.save': ['保存', 'Save'],
  'common.cancel': ['取消', 'Cancel'],
  'common.confirm': ['确定', 'Confirm'],
  'common.close': ['关闭', 'Close'],
  'common.search': ['搜索', 'Search'],
  'common.filter': ['筛选', 'Filter'],
  'common.all': ['全部', 'All'],
  'common.prev': ['上一页', 'Previous'],
  'common.next': ['下一页', 'Next'],
  'common.more': ['加载更多', 'Load more'],
  'common.page': ['第 {n} 页', 'Page {n}'],
  'common.total': ['共 {n} 条', '{n} in all'],
  'common.yes': ['是', 'Yes'],
  'common.no': ['否', 'No'],
  'common.refresh': ['刷新', 'Refresh'],
  'common.print': ['打印', 'Print'],
  'common.download': ['下载', 'Download'],
  'common.details': ['详情', 'Details'],
  'common.create': ['新建', 'Create'],
  'common.done': ['已完成', 'Done'],
  'common.note': ['备注', 'Note'],
  'common.required': ['必填', 'required'],
  'common.saved': ['已保存', 'Saved'],
  'common.back': ['返回', 'Back'],
  'common.name': ['名称', 'Name'],
  'common.code': ['编码', 'Code'],
  'common.time': ['时间', 'Time'],
  'common.status': ['状态', 'Status'],
  'common.actions': ['操作', 'Actions'],
  'common.phone': ['电话', 'Phone'],
  'common.kind': ['类型', 'Kind'],
  'common.id': ['编号', 'ID'],
  // order states (staff words) and the plain words residents see
  'state.submitted': ['已上报', 'Submitted'],
  'state.accepted': ['已立案', 'Accepted'],
  'state.rejected': ['不予立案', 'Rejected'],
  'state.merged': ['已合并', 'Merged'],
  'state.onsite_resolved': ['即时办结', 'Resolved on site'],
  'state.dispatched': ['已派遣', 'Dispatched'],
  'state.signed': ['已签收', 'Signed for'],
  'state.feedback': ['已反馈', 'Feedback given'],
  'state.rework': ['返工', 'Rework'],
  'state.closed': ['已结案', 'Closed'],
  'state.rated': ['已评价', 'Rated'],
  'plain.submitted': ['已收到，等待受理', 'Received, waiting to be taken on'],
  'plain.accepted': ['已受理，正在安排承办部门', 'Taken on; finding the right department'],
  'plain.rejected': ['未予受理', 'Not taken on'],
  'plain.merged': ['与相同问题合并办理', 'Handled together with the same problem reported earlier'],
  'plain.onsite_resolved': ['网格员已现场解决', 'Solved on the spot by the grid worker'],
  'plain.dispatched': ['已交给承办部门', 'Handed to the department'],
  'plain.signed': ['承办部门正在处理', 'The department is working on it'],
  'plain.feedback': ['已处理，正在核实', 'Handled; being checked'],
  'plain.rework': ['核实未通过，正在重新处理', 'Not fixed yet; being done again'],
  'plain.closed': ['已办结，请您评价', 'Done — please rate it'],
  'plain.rated': ['已办结，感谢评价', 'Done and rated — thank you'],
  'ev.report': ['问题已上报', 'Problem reported'],
  'ev.accept': ['中心已受理', 'Taken on by the centre'],
  'ev.reject': ['不予受理', 'Not taken on'],
  'ev.merge': ['与相同问题合并', 'Merged with the same problem'],
  'ev.onsite': ['网格员现场解决', 'Solved on the spot'],
  'ev.dispatch': ['派给承办部门', 'Sent to the department'],
  'ev.sign': ['部门签收，开始处理', 'The department took it on'],
  'ev.return': ['部门申请退回', 'The department asked to hand it back'],
  'ev.return_approve': ['同意退回，重新安排', 'Hand-back approved; being reassigned'],
  'ev.return_refuse': ['不同意退回', 'Hand-back refused'],
  'ev.extend': ['部门申请延期', 'The department asked for more time'],
  'ev.extend_approve': ['同意延期', 'More time granted'],
  'ev.extend_refuse': ['不同意延期', 'More time refused'],
  'ev.feedback': ['部门反馈处理结果', 'The department reported what it did'],
  'ev.verify_pass': ['核实通过，已办结', 'Checked and done'],
  'ev.verify_fail': ['核实未通过，返工', 'Checked: not fixed, redo'],
  'ev.rate': ['群众评价', 'Rated by the reporter'],
  'ev.escalate': ['提交上级办理', 'Passed up a level'],
  'ev.reopen': ['重新办理', 'Reopened'],
  'ev.supervise': ['发出督办', 'Supervision notice issued'],
  'ev.overdue': ['已超期', 'Overdue'],
  'rating.satisfied': ['满意', 'Satisfied'],
  'rating.basic': ['基本满意', 'Basically satisfied'],
  'rating.unsatisfied': ['不满意', 'Not satisfied'],
  // the residents' phone page (m.html)
  'm.title': ['我要吹哨', 'Blow the whistle'],
  'm.tab.report': ['我要上报', 'Report'],
  'm.tab.track': ['查询进度', 'Follow'],
  'm.tabs': ['上报或查询', 'Report or follow'],
  'm.step1': ['第一步：选择问题类型', 'Step 1: what kind of problem?'],
  'm.step1.sub': ['具体是哪一种？', 'Which one exactly?'],
  'm.unsure': ['不确定，由工作人员分类', 'Not sure — let the staff decide'],
  'm.change': ['重新选择', 'Change'],
  'm.step2': ['第二步：说明情况、拍照', 'Step 2: describe it, take photos'],
  'm.desc': ['问题描述', 'What is wrong'],
  'm.desc.ph': ['例如：小区东门井盖丢失，晚上很危险', 'e.g. The manhole cover at the east gate is missing; dangerous at night'],
  'm.photo.add': ['拍照 / 选择照片', 'Take or choose a photo'],
  'm.photo.remove': ['删除照片 {n}', 'Remove photo {n}'],
  'm.photo.uploading': ['照片上传中…', 'Uploading photo…'],
  'm.photo.failed': ['照片上传失败：{msg}', 'Photo upload failed: {msg}'],
  'm.photo.max': ['最多 {n} 张照片', 'At most {n} photos'],
  'm.photos': ['照片', 'Photos'],
  'm.step3': ['第三步：在哪里？怎么联系您？', 'Step 3: where, and how to reach you'],
  'm.loc.gps': ['使用我现在的位置', 'Use my current position'],
  'm.loc.locating': ['正在定位…', 'Finding your position…'],
  'm.loc.found': ['已定位：{v}', 'Located: {v}'],
  'm.loc.nogrid': ['已取得位置，但不在任何网格内，请从列表选择', 'Position found but outside every grid; choose from the list'],
  'm.loc.denied': ['无法取得位置，请从列表选择网格', 'Could not get your position; choose a grid from the list'],
  'm.loc.grid': ['所在网格 / 社区', 'Grid or community'],
  'm.loc.choose': ['请选择', 'Choose'],
  'm.loc.optional': ['（可不选）', '(optional)'],
  'm.loc.l1': ['街道 / 乡镇', 'Street or town'],
  'm.loc.l2': ['社区 / 村', 'Community or village'],
  'm.loc.l3': ['网格 / 小区（选填）', 'Grid or compound (optional)'],
  'm.loc.address': ['详细地址（选填）', 'Address (optional)'],
  'm.loc.address.ph': ['如：幸福小区 3 栋 2 单元', 'e.g. Xingfu compound, building 3, unit 2'],
  'm.contact': ['联系方式', 'Contact'],
  'm.anon': ['匿名（工作人员看不到您的姓名和电话）', 'Anonymous (staff do not see your name and phone)'],
  'm.phone.hint': ['用于确认查询码和回访，不会公开', 'Confirms your tracking code and lets us call back; never shown publicly'],
  'm.withphone': ['留下手机号（方便回访和评价）', 'Leave a phone number (for follow-up and rating)'],
  'm.phone': ['手机号', 'Mobile number'],
  'm.name': ['称呼（选填）', 'Your name (optional)'],
  'm.submit': ['提交', 'Send'],
  'm.sending': ['正在提交…', 'Sending…'],
  'm.need.cat': ['请选择问题类型', 'Please choose the kind of problem'],
  'm.need.desc': ['请简单描述问题', 'Please describe the problem'],
  'm.need.where': ['请定位或选择所在网格', 'Please locate yourself or choose a grid'],
  'm.need.phone': ['请填写正确的手机号', 'Please enter a valid mobile number'],
  'm.done.title': ['已收到，谢谢您！', 'Received — thank you!'],
  'm.done.code': ['您的查询码', 'Your tracking code'],
  'm.done.keep': ['请记下查询码，可随时查看办理进度。', 'Keep this code to follow your report at any time.'],
  'm.done.follow': ['查看办理进度', 'Follow it'],
  'm.done.again': ['再报一个问题', 'Report another problem'],
  'm.copy': ['复制', 'Copy'],
  'm.copied': ['已复制', 'Copied'],
  'm.track.code': ['查询码', 'Tracking code'],
  'm.track.go': ['查询', 'Look up'],
  'm.track.mine': ['我上报过的', 'My reports'],
  'm.track.notfound': ['没有找到这个查询码', 'No report with this code'],
  'm.track.state': ['当前状态', 'Now'],
  'm.track.dept': ['承办部门', 'Handled by'],
  'm.track.deadline': ['办结时限', 'Due by'],
  'm.track.timeline': ['办理经过', 'What happened'],
  'm.track.before': ['上报照片', 'Photos when reported'],
  'm.track.after': ['处理后照片', 'Photos after handling'],
  'm.track.category': ['问题类型', 'Kind of problem'],
  'm.track.grid': ['所在网格', 'Grid'],
  'm.track.reported': ['上报时间', 'Reported'],
  'm.rate.title': ['请您评价办理结果', 'How was it handled?'],
  'm.rate.satisfied': ['满意', 'Satisfied'],
  'm.rate.basic': ['基本满意', 'Basically satisfied'],
  'm.rate.unsatisfied': ['不满意', 'Not satisfied'],
  'm.rate.comment': ['想说的话（选填）', 'Comment (optional)'],
  'm.rate.phone4': ['上报时手机号的后四位', 'Last 4 digits of the phone you reported with'],
  'm.rate.send': ['提交评价', 'Send rating'],
  'm.rate.thanks': ['感谢您的评价！', 'Thank you for rating!'],
  'm.rate.done': ['您的评价：{v}', 'Your rating: {v}'],
  'm.offline': ['网络不通，请稍后重试', 'No connection; please try again'],
  'm.staff': ['工作人员登录', 'Staff login'],
  'm.hotline': ['紧急情况请拨打 110 / 119 / 120', 'In an emergency call 110 / 119 / 120'],
};

const LANGS = ['zh-CN', 'en'];
const KEY = 'whistle.lang';
let current = (() => {
  try {
    const v = localStorage.getItem(KEY);
    if (LANGS.includes(v)) return v;
  } catch { /* storage may be off */ }
  return 'zh-CN';
})();
const listeners = new Set();

export function lang() { return current; }
export function isEn() { return current === 'en'; }

export function setLang(l) {
  if (!LANGS.includes(l) || l === current) return;
  current = l;
  try { localStorage.setItem(KEY, l); } catch { /* ignore */ }
  document.documentElement.lang = l;
  for (const fn of listeners) fn(l);
}

export function toggleLang() { setLang(current === 'en' ? 'zh-CN' : 'en'); }
export function onLang(fn) { listeners.add(fn); }

// Adds keys (modules may bring their own words).
export function extend(table) { Object.assign(T, table); }

export function has(key) { return Object.prototype.hasOwnProperty.call(T, key); }

export function t(key, vars) {
  const e = T[key];
  let s = e ? (current === 'en' ? e[1] : e[0]) : key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined || vars[k] === null ? '' : String(vars[k])));
  return s;
}

// t() with a fallback for keys the table may not have (API-sent labels).
export function tf(key, fallback, vars) { return has(key) ? t(key, vars) : (fallback ?? key); }

// Fills static markup: data-i18n="key" sets the text; data-i18n-attr="placeholder:key;aria-label:key".
export function applyI18n(root = document) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-attr]')) {
    for (const pair of el.dataset.i18nAttr.split(';')) {
      const [attr, key] = pair.split(':');
      if (attr && key) el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}
