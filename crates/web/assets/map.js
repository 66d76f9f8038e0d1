// map.js — the offline mini-map: an SVG plan of the user's schools drawn from their WGS-84
// coordinates (no tiles, no network), with one school highlighted, optional extra marks (e.g. the
// position an alarm panel reported), a north arrow and a scale bar.

import { svg } from './util.js';

/**
 * schools: [{id, name, lat, lon}]; highlight: school id; marks: [{lat, lon, label}] drawn as red
 * diamonds. Returns an <svg> element.
 * Equirectangular projection around the schools' centre, which is exact enough for a few km.
 */
export function miniMap(schools, highlight, { width = 480, height = 250, marks = [] } = {}) {
  const pts = schools.filter((s) => Number.isFinite(s.lat) && Number.isFinite(s.lon));
  const mks = marks.filter((m) => Number.isFinite(m.lat) && Number.isFinite(m.lon));
  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, class: 'minimap', role: 'img', 'data-testid': 'minimap',
    'aria-label': pts.map((s) => s.name).join('、'),
  });
  root.appendChild(svg('rect', { x: 0, y: 0, width, height, class: 'mm-bg', rx: 6 }));
  for (let i = 1; i < 6; i++) root.appendChild(svg('line', { x1: (width * i) / 6, y1: 0, x2: (width * i) / 6, y2: height, class: 'mm-grid' }));
  for (let i = 1; i < 4; i++) root.appendChild(svg('line', { x1: 0, y1: (height * i) / 4, x2: width, y2: (height * i) / 4, class: 'mm-grid' }));
  if (!pts.length) return root;

  const lat0 = pts.reduce((a, s) => a + s.lat, 0) / pts.length;
  const kx = Math.cos((lat0 * Math.PI) / 180) * 111320; // metres per degree of longitude
  const ky = 110540; // metres per degree of latitude
  const all = [...pts, ...mks];
  const xs = all.map((s) => s.lon * kx);
  const ys = all.map((s) => s.lat * ky);
  const minX = Math.min(...xs), maxX = Math.max(...xs), minY = Math.min(...ys), maxY = Math.max(...ys);
  const spanM = Math.max(maxX - minX, maxY - minY, 600); // at least 600 m across
  const pad = 34;
  const scale = Math.min((width - 2 * pad) / Math.max(maxX - minX, spanM * 0.5), (height - 2 * pad) / Math.max(maxY - minY, spanM * 0.5));
  const cx = (minX + maxX) / 2, cy = (minY + maxY) / 2;
  const px = (s) => width / 2 + (s.lon * kx - cx) * scale;
  const py = (s) => height / 2 - (s.lat * ky - cy) * scale;

  // Others first, the highlighted school last so it is drawn on top.
  const ordered = [...pts].sort((a, b) => (a.id === highlight) - (b.id === highlight));
  for (const s of ordered) {
    const x = px(s), y = py(s);
    const hot = s.id === highlight;
    const g = svg('g', { class: hot ? 'mm-school mm-hot' : 'mm-school', 'data-school-id': s.id });
    g.appendChild(svg('title', {}, s.name));
    if (hot) {
      g.appendChild(svg('circle', { cx: x, cy: y, r: 16, class: 'mm-pulse' }));
      g.appendChild(svg('circle', { cx: x, cy: y, r: 8, class: 'mm-dot' }));
    } else {
      g.appendChild(svg('rect', { x: x - 4.5, y: y - 4.5, width: 9, height: 9, class: 'mm-dot', rx: 1.5 }));
    }
    const label = shortName(s.name);
    const right = x < width - 110;
    g.appendChild(svg('text', { x: right ? x + (hot ? 13 : 8) : x - (hot ? 13 : 8), y: y + 4, 'text-anchor': right ? 'start' : 'end', class: 'mm-label' }, label));
    root.appendChild(g);
  }

  for (const m of mks) {
    const x = px(m), y = py(m);
    const right = x < width - 110;
    root.appendChild(svg('g', { class: 'mm-mark', 'data-testid': 'minimap-mark' },
      svg('title', {}, m.label || ''),
      svg('path', { d: `M${x} ${y - 9} l7 9 l-7 9 l-7 -9 z`, class: 'mm-mark-shape' }),
      svg('text', { x: right ? x + 10 : x - 10, y: y - 8, 'text-anchor': right ? 'start' : 'end', class: 'mm-label mm-mark-label' }, m.label || '')));
  }

  // North arrow.
  root.appendChild(svg('g', { class: 'mm-north' },
    svg('path', { d: `M${width - 18} 10 l6 14 l-6 -4 l-6 4 z` }),
    svg('text', { x: width - 18, y: 36, 'text-anchor': 'middle' }, 'N')));
  // Scale bar: a round number of metres around 1/4 of the width.
  const target = (width / 4) / scale;
  const nice = [100, 200, 250, 500, 1000, 2000, 5000, 10000].reduce((b, v) => (Math.abs(v - target) < Math.abs(b - target) ? v : b));
  const len = nice * scale;
  root.appendChild(svg('g', { class: 'mm-scale' },
    svg('path', { d: `M10 ${height - 12} v-5 M10 ${height - 14} h${len} M${10 + len} ${height - 12} v-5` }),
    svg('text', { x: 10 + len + 6, y: height - 10 }, nice >= 1000 ? `${nice / 1000} km` : `${nice} m`)));
  return root;
}

/** "恩施市实验小学" → "实验小学": drop the city prefix on the plan to keep labels short. */
function shortName(name) {
  return name.replace(/^.{1,4}?[市县区]/, '') || name;
}
