// app.js — start-up and the shell: asks /api/v1/me who is signed in, shows the login page or the
// page for the role (police console, field officer, school one-key, bureau), draws the top bar
// (title, user, 中文/English switch, logout) and re-labels the page when the language changes.

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

const root = document.getElementById('app');
const topbar = document.getElementById('topbar');
const banners = document.getElementById('banners');
let current = null; // { name, page, me }

function unmount() {
  if (current?.page?.destroy) current.page.destroy();
  current = null;
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

function drawTopbar() {
  topbar.hidden = false;
  const me = current?.me;
  fill(topbar,
    h('div', { class: 'brand' },
      h('img', { src: '/assets/icon.svg', alt: '', width: 28, height: 28 }),
      h('span', { class: 'brand-name' }, t('app.name')),
      h('span', { class: 'brand-full' }, current ? t(`page.${current.name}`) : t('app.full'))),
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

async function mountPage(me) {
  unmount();
  const name = PAGES[me.user.role] || 'bureau';
  current = { name, me, page: null };
  document.body.dataset.page = name;
  document.title = `${t(`page.${name}`)} · ${t('app.name')}`;
  if (location.pathname !== `/${name}`) history.replaceState(null, '', `/${name}`);
  drawTopbar();
  fill(root, h('div', { class: 'boot' }, t('loading')));
  const mod = await import(`./pages/${name}.js`);
  current.page = mod.mount(root, { me, banners });
}

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
  if (current) document.title = `${t(`page.${current.name}`)} · ${t('app.name')}`;
  if (current?.page?.relabel) current.page.relabel();
  else if (document.body.dataset.page === 'login') showLogin();
});

start();
