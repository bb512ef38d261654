// The riskatlas viewer: the output's vector tiles drawn with the generated
// style, with layer switches, a legend from the palette, popups with the
// Chinese field names, a district list and the links to the lists. Every
// file it loads sits beside it: it works with no internet.
import * as maplibregl from './vendor/maplibre-gl/maplibre-gl.mjs';

const here = new URL('.', window.location.href);
const SOURCE = 'riskatlas';
const LEVELS = { city: '市', district: '区县', town: '乡镇街道', province: '省' };
const DANGER = { major: '重大', general: '一般', open: '未整改', rectified: '已整改' };

async function fetchJson(name) {
  const response = await fetch(new URL(name, here));
  if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
  return response.json();
}

/** A field's value as the lists write it. */
function display(info, field, value) {
  if (value === true) return '是';
  if (value === false) return '否';
  if (field === 'grade') {
    const g = info.grades.find((x) => x.grade === value);
    return g ? g.label : value;
  }
  if (field === 'level') return LEVELS[value] || DANGER[value] || value;
  if (field === 'status') return DANGER[value] || value;
  return value;
}

function element(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The style's layers drawing output layer `id` (its tile layer and names). */
function styleLayersOf(style, id) {
  return style.layers
    .filter((l) => l.source === SOURCE && (l['source-layer'] === id || l['source-layer'] === `${id}_labels`))
    .map((l) => l.id);
}

function buildLayerSwitches(map, style, info) {
  const box = document.getElementById('layers');
  for (const layer of info.layers) {
    const ids = styleLayersOf(style, layer.id);
    const label = element('label', { class: 'layer-toggle' });
    const input = element('input', { type: 'checkbox', 'data-layer': layer.id });
    input.checked = true;
    input.addEventListener('change', () => {
      for (const id of ids) map.setLayoutProperty(id, 'visibility', input.checked ? 'visible' : 'none');
    });
    label.append(input, ` ${layer.title}`);
    box.append(label);
  }
}

function swatch(entry, sprite) {
  const s = element('span', { class: `swatch ${entry.kind}` });
  if (entry.kind === 'fill') {
    if (entry.fill) {
      s.style.background = entry.fill;
      s.style.opacity = entry.opacity ?? 1;
    }
    if (entry.outline) s.style.border = `2px ${entry.dashed ? 'dashed' : 'solid'} ${entry.outline}`;
  } else if (entry.kind === 'circle') {
    s.style.background = entry.fill || 'transparent';
    s.style.border = `1px solid ${entry.outline}`;
  } else if (entry.kind === 'icon' && sprite[entry.icon]) {
    const i = sprite[entry.icon];
    const r = i.pixelRatio || 1;
    s.style.backgroundImage = `url(${new URL('sprite.png', here)})`;
    s.style.backgroundPosition = `-${i.x / r}px -${i.y / r}px`;
    s.style.width = `${i.width / r}px`;
    s.style.height = `${i.height / r}px`;
  }
  return s;
}

function buildLegend(info, sprite) {
  const box = document.getElementById('legend');
  for (const layer of info.layers) {
    const group = element('div', { class: 'legend-group' });
    group.append(element('h3', {}, layer.title));
    for (const entry of layer.legend) {
      const row = element('div', { class: 'legend-entry' });
      row.append(swatch(entry, sprite), element('span', {}, entry.label));
      group.append(row);
    }
    box.append(group);
  }
}

function buildDistricts(map, info) {
  const list = document.getElementById('districts');
  for (const d of info.districts) {
    const g = info.grades.find((x) => x.grade === d.grade);
    const li = element('li', { class: 'district', 'data-code': d.code });
    const s = element('span', { class: 'swatch' });
    s.style.background = g ? g.colour : '#ccc';
    li.append(s, element('span', {}, d.name));
    li.addEventListener('click', () => map.fitBounds(d.bounds, { padding: 30, duration: 0 }));
    list.append(li);
  }
}

function buildLists(info) {
  const list = document.getElementById('lists');
  for (const l of info.lists) {
    const li = element('li');
    li.append(element('a', { href: l.href, download: '' }, l.name));
    list.append(li);
  }
}

function popupHtml(info, feature) {
  const id = feature.sourceLayer === 'admin_units_labels' ? 'admin_units' : feature.sourceLayer;
  const layer = info.layers.find((l) => l.id === id);
  const box = element('div', { class: 'popup' });
  box.append(element('h3', {}, layer ? layer.title : id));
  const table = element('table');
  for (const f of layer ? layer.fields : []) {
    const v = feature.properties[f.name];
    if (v === undefined || v === null || v === '') continue;
    const tr = element('tr');
    tr.append(element('th', {}, f.alias), element('td', {}, String(display(info, f.name, v))));
    table.append(tr);
  }
  box.append(table);
  return box;
}

/**
 * The tile file's byte ranges for the PMTiles reader, fetched past the
 * browser's HTTP cache: Chromium's cache of partial (206) responses can
 * hand a repeated range back truncated, and the tile then fails to
 * decompress. Each body is checked against its Content-Range.
 */
class RangeSource {
  constructor(url) {
    this.url = url;
  }

  getKey() {
    return this.url;
  }

  async getBytes(offset, length, signal) {
    const get = (range) => fetch(this.url, { signal, cache: 'no-store', headers: { range } });
    const range = `bytes=${offset}-${offset + length - 1}`;
    let response = await get(range);
    if (response.status === 416 && offset === 0) {
      // A file shorter than the reader's first request: ask for all of it.
      const total = Number(response.headers.get('Content-Range')?.split('/')[1]);
      if (!(total > 0)) throw new Error(`${this.url}: HTTP 416 without the file's length`);
      response = await get(`bytes=0-${total - 1}`);
    }
    if (response.status !== 206) {
      throw new Error(`${this.url}: HTTP ${response.status} to a range request (the server must answer ranges)`);
    }
    const data = await response.arrayBuffer();
    const [, first, last] = /bytes (\d+)-(\d+)/.exec(response.headers.get('Content-Range') ?? '') ?? [];
    if (first === undefined || data.byteLength !== Number(last) - Number(first) + 1) {
      throw new Error(`${this.url}: ${range} came back with ${data.byteLength} bytes`);
    }
    const etag = response.headers.get('ETag');
    return {
      data,
      etag: etag && !etag.startsWith('W/') ? etag : undefined,
      cacheControl: response.headers.get('Cache-Control') ?? undefined,
      expires: response.headers.get('Expires') ?? undefined,
    };
  }
}

async function main() {
  const [info, style, sprite] = await Promise.all([
    fetchJson('map.json'),
    fetchJson('style.json'),
    fetchJson('sprite.json'),
  ]);
  document.title = info.title;
  document.getElementById('title').textContent = info.title;
  document.getElementById('subtitle').textContent =
    `${info.year} 年 · 数据截至 ${info.data_date}${info.crs === 'wgs84' ? '' : ` · 坐标 ${info.crs.toUpperCase()}`}`;
  document.getElementById('source').textContent = info.source;

  const protocol = new window.pmtiles.Protocol();
  maplibregl.addProtocol('pmtiles', protocol.tile);
  // The style names its files relative to itself; the map needs them absolute.
  const tiles = new URL(info.tiles, here).href;
  protocol.add(new window.pmtiles.PMTiles(new RangeSource(tiles)));
  style.sources[SOURCE].url = `pmtiles://${tiles}`;
  style.sprite = new URL('sprite', here).href;

  const map = new maplibregl.Map({
    container: 'map',
    style,
    bounds: info.bounds,
    fitBoundsOptions: { padding: 20 },
    localIdeographFontFamily: "'Noto Sans CJK SC', 'Noto Sans SC', 'Microsoft YaHei', 'PingFang SC', sans-serif",
    attributionControl: { compact: false },
  });
  // MapLibre's own report of a failed load is the bare error; this one says
  // which source and tile it was.
  map.on('error', (e) => {
    const id = e.tile?.tileID?.canonical;
    const where = [e.sourceId, id && `${id.z}/${id.x}/${id.y}`].filter(Boolean).join(' ');
    console.error(`map error${where ? ` (${where})` : ''}: ${e.error?.message ?? e.error}`);
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  window.riskatlas = { map, info };

  buildLayerSwitches(map, style, info);
  buildLegend(info, sprite);
  buildDistricts(map, info);
  buildLists(info);

  const interactive = style.layers.filter((l) => l.source === SOURCE).map((l) => l.id);
  map.on('click', (e) => {
    const hits = map.queryRenderedFeatures(e.point, { layers: interactive });
    if (!hits.length) return;
    new maplibregl.Popup({ maxWidth: '360px' })
      .setLngLat(e.lngLat)
      .setDOMContent(popupHtml(info, hits[0]))
      .addTo(map);
  });
  map.on('mousemove', (e) => {
    const hit = map.queryRenderedFeatures(e.point, { layers: interactive }).length > 0;
    map.getCanvas().style.cursor = hit ? 'pointer' : '';
  });
}

main().catch((e) => {
  console.error(e);
  document.getElementById('subtitle').textContent = `无法加载地图：${e.message}`;
});
