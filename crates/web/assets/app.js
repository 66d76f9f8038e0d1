// app.js — start-up and the shell: asks /api/v1/me who is signed in, shows the login page or the
// page for the role (police console, field officer, school one-key, bureau), draws the top bar
// (title, page tabs, user, 中文/English switch, logout) and re-labels the page when the language
// changes. The role's own page stays mounted (hidden) while another tab such as 设备管理 is
// shown, so the console keeps its live stream and siren; an alarm strip then calls the user back.

import * as api from './api.js';
import { h, fill } from './util.js';
import { t, getLang, setLang, onLang } from './i18n.js';

const PAGES = {
  police_operator: 'console',
  police_supervisor: 'console',
  police_officer: 'field',
  school_guard: 'school',
  school_admin: 'school',
  bureau_inspector: 'bureau',
  bureau_admin: 'bureau',
  sysadmin: 'bureau',
};

/** Further pages (tabs after the role's own page) and the roles that get them. */
const EXTRA = {
  devices: ['police_operator', 'police_supervisor', 'sysadmin'],
};

function pagesFor(role) {
  const home = PAGES[role] || 'bureau';
  return [home, ...Object.keys(EXTRA).filter((p) => EXTRA[p].includes(role))];
}

const root = document.getElementById('app');
const topbar = document.getElementById('topbar');
const banners = document.getElementById('banners');
let current = null; // { name (shown), home, me, slots: Map name → {el, page} }
let alarmStrip = null;
const alertWatch = new MutationObserver(() => updateAlarmStrip());
alertWatch.observe(document.body, { attributes: true, attributeFilter: ['data-alerting'] });

function unmount() {
  if (current) for (const s of current.slots.values()) s.page?.destroy?.();
  current = null;
  alarmStrip = null;
  fill(banners);
  document.body.removeAttribute('data-alerting');
  document.body.removeAttribute('data-loaded');
  document.body.removeAttribute('data-live');
}

function orgName(me) {
  const s = me.schools || [];
  const role = me.user.role;
  if (role.startsWith('police')) return s[0]?.police_region?.name || '';
  if (role.startsWith('school')) return s.map((x) => x.name).join('、');
  if (role === 'bureau_admin') return s[0]?.bureau_region?.name || '';
  if (role === 'bureau_inspector') return s.map((x) => x.name).join('、');
  return '';
}

/** The second line under the user's name: role (unless the name already says it) and unit. */
function whoOrg(me) {
  const role = t(`role.${me.user.role}`);
  return [me.user.display_name.startsWith(role) ? '' : role, orgName(me)].filter(Boolean).join(' · ');
}

function langSwitch() {
  const l = getLang();
  return h('div', { class: 'lang', role: 'group', 'aria-label': 'Language' },
    h('button', { type: 'button', class: l === 'zh-CN' ? 'on' : '', 'data-testid': 'lang-zh', 'aria-pressed': String(l === 'zh-CN'), onclick: () => setLang('zh-CN') }, t('lang.zh')),
    h('button', { type: 'button', class: l === 'en' ? 'on' : '', 'data-testid': 'lang-en', 'aria-pressed': String(l === 'en'), onclick: () => setLang('en') }, t('lang.en')));
}

/** The page tabs (only when the role has more than one page). */
function navTabs() {
  if (!current) return null;
  const pages = pagesFor(current.me.user.role);
  if (pages.length < 2) return null;
  const alerting = document.body.dataset.alerting === 'true';
  return h('nav', { class: 'nav', 'aria-label': t('nav.label'), 'data-testid': 'nav' },
    pages.map((p) => h('a', {
      href: `/${p}`,
      class: `nav-tab${p === current.name ? ' on' : ''}${p === current.home && alerting ? ' alerting' : ''}`,
      'aria-current': p === current.name ? 'page' : null,
      'data-testid': `nav-${p}`,
      onclick: (e) => { if (e.button || e.ctrlKey || e.metaKey || e.shiftKey) return; e.preventDefault(); go(p); },
    }, p === current.home && alerting && p !== current.name ? h('span', { class: 'nav-dot', 'aria-hidden': 'true' }) : null, t(`page.${p}`))));
}

/** While another tab is shown and the console has unclaimed alarms: a strip that leads back. */
function updateAlarmStrip() {
  if (!current) return;
  const show = document.body.dataset.alerting === 'true' && current.name !== current.home;
  if (show && !alarmStrip) {
    alarmStrip = h('div', { class: 'banner banner-alarm', role: 'alert', 'data-testid': 'alarm-strip' });
    banners.prepend(alarmStrip);
  } else if (!show && alarmStrip) {
    alarmStrip.remove();
    alarmStrip = null;
  }
  if (alarmStrip) {
    fill(alarmStrip,
      h('span', { class: 'banner-text' }, t('nav.alarm')),
      h('button', { type: 'button', class: 'btn btn-banner-alarm', 'data-testid': 'alarm-strip-back', onclick: () => go(current.home) }, t('nav.back', { p: t(`page.${current.home}`) })));
  }
  const tabs = topbar.querySelector('.nav');
  if (tabs) tabs.replaceWith(navTabs());
}

function drawTopbar() {
  topbar.hidden = false;
  const me = current?.me;
  const nav = navTabs();
  fill(topbar,
    h('div', { class: 'brand' },
      h('img', { src: '/assets/icon.svg', alt: '', width: 28, height: 28 }),
      h('span', { class: 'brand-name' }, t('app.name')),
      // With tabs the page's name is on its tab.
      nav ? null : h('span', { class: 'brand-full' }, current ? t(`page.${current.name}`) : t('app.full'))),
    nav,
    h('div', { class: 'top-right' },
      me && h('div', { class: 'who', 'data-testid': 'whoami' },
        h('span', { class: 'who-name' }, me.user.display_name),
        whoOrg(me) && h('span', { class: 'who-org' }, whoOrg(me))),
      langSwitch(),
      me && h('button', { type: 'button', class: 'btn btn-ghost', 'data-testid': 'logout', onclick: doLogout }, t('logout'))));
}

async function doLogout() {
  try { await api.logout(); } catch { /* the session is gone either way */ }
  unmount();
  showLogin();
}

function showLogin(message) {
  unmount();
  document.body.dataset.page = 'login';
  document.title = `${t('app.name')} · ${t('app.full')}`;
  if (location.pathname !== '/login') history.replaceState(null, '', '/login');
  drawTopbar();
  const err = h('div', { class: 'form-error', role: 'alert', 'data-testid': 'login-error', hidden: !message }, message || '');
  const user = h('input', { id: 'login-username', name: 'username', autocomplete: 'username', autocapitalize: 'off', spellcheck: 'false', required: true, 'data-testid': 'login-username' });
  const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'login-password' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block', 'data-testid': 'login-submit' }, t('login.submit'));
  const form = h('form', { class: 'login-card', 'data-testid': 'login-form', novalidate: true },
    h('div', { class: 'login-head' },
      h('img', { src: '/assets/icon.svg', alt: '', width: 48, height: 48 }),
      h('div', null, h('h1', null, `${t('app.name')} · ${t('app.full')}`), h('p', { class: 'muted' }, t('login.hint')))),
    h('h2', null, t('login.title')),
    h('label', { for: 'login-username' }, t('login.username')), user,
    h('label', { for: 'login-password' }, t('login.password')), pass,
    err, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!user.value.trim() || !pass.value) { err.textContent = t('login.empty'); err.hidden = false; return; }
    submit.disabled = true;
    submit.textContent = t('login.busy');
    err.hidden = true;
    try {
      await api.login(user.value.trim(), pass.value);
      await start();
    } catch (ex) {
      const { errText } = await import('./i18n.js');
      err.textContent = errText(ex);
      err.hidden = false;
      submit.disabled = false;
      submit.textContent = t('login.submit');
      pass.select();
    }
  });
  fill(root, h('div', { class: 'login-wrap' }, form));
  user.focus();
}

/** The page a path asks for, when the user has it; else the role's own page. */
function pageOf(me, pathname) {
  const pages = pagesFor(me.user.role);
  const want = pathname.replace(/^\/+|\/+$/g, '');
  return pages.includes(want) ? want : pages[0];
}

async function mountPage(me) {
  unmount();
  const home = PAGES[me.user.role] || 'bureau';
  current = { name: home, home, me, slots: new Map() };
  fill(root);
  await show(home, { replace: true });
  const want = pageOf(me, location.pathname);
  if (want !== home) await show(want, { replace: true });
}

/** Shows page `name` (mounting it when needed); other pages than the role's own are unmounted when left. */
async function show(name, { replace = false } = {}) {
  const me = current.me;
  const prev = current.name;
  if (prev !== name && prev !== current.home) {
    const s = current.slots.get(prev);
    s?.page?.destroy?.();
    s?.el.remove();
    current.slots.delete(prev);
  }
  current.name = name;
  document.body.dataset.page = name;
  document.title = `${t(`page.${name}`)} · ${t('app.name')}`;
  if (location.pathname !== `/${name}`) history[replace ? 'replaceState' : 'pushState'](null, '', `/${name}`);
  drawTopbar();
  updateAlarmStrip();
  for (const [n, s] of current.slots) s.el.hidden = n !== name;
  if (current.slots.has(name)) return;
  const el = h('div', { class: 'page-slot', 'data-slot': name }, h('div', { class: 'boot' }, t('loading')));
  const slot = { el, page: null };
  current.slots.set(name, slot);
  root.appendChild(el);
  const mod = await import(`./pages/${name}.js`);
  if (current?.slots.get(name) !== slot) return; // left (or logged out) while loading
  slot.page = mod.mount(el, { me, banners });
}

function go(name) {
  if (!current || name === current.name) return;
  show(name);
  window.scrollTo(0, 0);
}

window.addEventListener('popstate', () => {
  if (current) show(pageOf(current.me, location.pathname), { replace: true });
});

async function start() {
  let me;
  try {
    me = await api.me();
  } catch (e) {
    if (e.status === 401) { showLogin(); return; }
    const { errText } = await import('./i18n.js');
    fill(root, h('div', { class: 'boot' }, errText(e), ' ', h('button', { class: 'btn', onclick: start }, '重试 / Retry')));
    return;
  }
  await mountPage(me);
}

api.setUnauthenticatedHandler(() => {
  if (document.body.dataset.page === 'login') return;
  import('./i18n.js').then(({ t: tt }) => showLogin(tt('err.unauthenticated')));
});

onLang(() => {
  drawTopbar();
  updateAlarmStrip();
  if (current) {
    document.title = `${t(`page.${current.name}`)} · ${t('app.name')}`;
    for (const s of current.slots.values()) s.page?.relabel?.();
  } else if (document.body.dataset.page === 'login') showLogin();
});

start();
