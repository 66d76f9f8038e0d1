// storage.js — the red storage-failure banner. The live stream sends the server's storage state
// ({type: 'storage', storage: {ok, since, error, refused}}) when it connects and whenever it
// changes; while writes fail, alarms are NOT saved (senders get no acknowledgement and retry),
// and every console shows it at the top until storage recovers by itself.

const TEXT = '存储故障：报警无法保存，请立即处理 / Storage failure: alarms cannot be saved';

function clock(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString('zh-CN', { hour12: false });
}

/** Shows or clears the banner for `state` (a storage state from the server). */
export function showStorage(state) {
  const banners = document.getElementById('banners');
  if (!banners) return;
  let el = banners.querySelector('[data-testid="storage-banner"]');
  if (state && state.ok === false) {
    if (!el) {
      el = document.createElement('div');
      el.className = 'banner banner-storage';
      el.setAttribute('role', 'alert');
      el.dataset.testid = 'storage-banner';
      const text = document.createElement('span');
      text.className = 'banner-text';
      const detail = document.createElement('span');
      detail.className = 'banner-detail';
      el.append(text, detail);
      banners.prepend(el);
    }
    el.querySelector('.banner-text').textContent = TEXT;
    const since = clock(state.since);
    el.querySelector('.banner-detail').textContent =
      `${since ? `自 ${since} 起 / since ${since} · ` : ''}未保存 / refused: ${state.refused ?? 0}`;
    el.title = state.error || '';
    document.body.dataset.storage = 'failing';
  } else {
    if (el) el.remove();
    delete document.body.dataset.storage;
  }
}
