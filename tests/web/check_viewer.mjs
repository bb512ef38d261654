// Drives headless Chromium (Debian's, software WebGL) against the viewer
// `riskatlas serve` serves, and checks what a user sees:
//   node check_viewer.mjs URL OUT_DIR SHOTS_DIR
// the page loads with no console error or failed request; the map shows the
// palette's four colours; a click on a red enterprise opens a popup with its
// name; switching the grid off changes the map. Screenshots go to SHOTS_DIR.
// Prints one line per check and exits 1 if any fails.
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [url, outDir, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const failures = [];
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--use-angle=swiftshader',
    '--enable-unsafe-swiftshader',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
const problems = [];
page.on('console', async (m) => {
  if (m.type() !== 'error') return;
  // An Error object's text is its class name alone: its message and stack say what failed.
  const args = await Promise.all(
    m.args().map((a) => a.evaluate((v) => (v instanceof Error ? `${v.name}: ${v.message} ${v.stack ?? ''}` : String(v))).catch(() => '')),
  );
  problems.push(`console: ${args.join(' ') || m.text()} at ${m.location().url}:${m.location().lineNumber}`);
});
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
// The network layer's own account of failed loads (net:: error, cancelled or not), whether or not
// the page saw them as a failed request.
const cdp = await page.context().newCDPSession(page);
await cdp.send('Network.enable');
const netLog = [];
cdp.on('Network.loadingFailed', (e) => netLog.push(`${e.type} ${e.errorText}${e.canceled ? ' (cancelled)' : ''} ${e.blockedReason ?? ''}`));
page.on('response', (r) => {
  if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
});

/** Waits until the map has drawn everything it has asked for. */
async function idle() {
  await page.evaluate(
    () =>
      new Promise((resolve) => {
        const map = window.riskatlas.map;
        map.once('idle', resolve);
        map.triggerRepaint();
      }),
  );
}

/**
 * Screenshots the map's element and keeps its pixels (RGBA) in the page under `name`, decoded
 * there: counting in the page spares shipping millions of numbers to this process.
 */
async function mapPixels(name) {
  const shot = await page.locator('#map').screenshot({ path: join(shots, `${name}.png`) });
  await page.evaluate(
    async ([name, b64]) => {
      const img = new Image();
      img.src = `data:image/png;base64,${b64}`;
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      window.shots = window.shots ?? {};
      window.shots[name] = ctx.getImageData(0, 0, c.width, c.height).data;
    },
    [name, shot.toString('base64')],
  );
  return name;
}

/** How many pixels of the screenshot `name` are within `tolerance` of the colour `hex` in each channel. */
function countNear(name, hex, tolerance = 10) {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return page.evaluate(
    ([name, r, g, b, t]) => {
      const p = window.shots[name];
      let n = 0;
      for (let i = 0; i < p.length; i += 4) {
        if (Math.abs(p[i] - r) <= t && Math.abs(p[i + 1] - g) <= t && Math.abs(p[i + 2] - b) <= t) n++;
      }
      return n;
    },
    [name, r, g, b, tolerance],
  );
}

/** How many pixels differ between two screenshots by more than 30 in the sum of their channels. */
function changedPixels(a, b) {
  return page.evaluate(
    ([a, b]) => {
      const [p, q] = [window.shots[a], window.shots[b]];
      let n = 0;
      for (let i = 0; i < p.length; i += 4) {
        if (Math.abs(p[i] - q[i]) + Math.abs(p[i + 1] - q[i + 1]) + Math.abs(p[i + 2] - q[i + 2]) > 30) n++;
      }
      return n;
    },
    [a, b],
  );
}

await page.goto(url);
await page.waitForFunction(() => window.riskatlas && window.riskatlas.map.loaded(), null, { timeout: 60000 });
await idle();
const info = await page.evaluate(() => window.riskatlas.info);

// 1. The palette's four colours, at the opening view and at a district's.
await page.screenshot({ path: join(shots, 'page.png') });
const opening = await mapPixels('opening');
const counts = {};
for (const g of info.grades) counts[g.label] = await countNear(opening, g.colour);
console.log(`     palette pixels at the opening view: ${JSON.stringify(counts)}`);
for (const g of info.grades) check(counts[g.label] >= 20, `the opening view shows ${g.label} ${g.colour} (${counts[g.label]} pixels)`);

// 2. A click on a red enterprise with nothing else near it opens its popup.
const enterprises = JSON.parse(readFileSync(join(outDir, 'geojson', 'enterprises.geojson'), 'utf8')).features;
const others = ['hazard_sources', 'hidden_dangers', 'vulnerable_targets']
  .flatMap((l) => JSON.parse(readFileSync(join(outDir, 'geojson', `${l}.geojson`), 'utf8')).features)
  .concat(enterprises);
const far = (f) =>
  others.every((o) => {
    if (o === f) return true;
    const [dx, dy] = [o.geometry.coordinates[0] - f.geometry.coordinates[0], o.geometry.coordinates[1] - f.geometry.coordinates[1]];
    return Math.hypot(dx * 94000, dy * 111000) > 150;
  });
const red = enterprises.find((f) => f.properties.grade === 'red' && far(f));
check(Boolean(red), 'the example has a red enterprise with nothing within 150 m');
if (red) {
  const [lon, lat] = red.geometry.coordinates;
  await page.evaluate(([lon, lat]) => window.riskatlas.map.jumpTo({ center: [lon, lat], zoom: 15 }), [lon, lat]);
  await idle();
  const box = await page.locator('#map').boundingBox();
  const at = await page.evaluate(([lon, lat]) => window.riskatlas.map.project([lon, lat]), [lon, lat]);
  await page.mouse.click(box.x + at.x, box.y + at.y);
  const popup = page.locator('.maplibregl-popup');
  await popup.waitFor({ timeout: 10000 }).catch(() => {});
  const text = (await popup.count()) ? await popup.innerText() : '';
  await page.screenshot({ path: join(shots, 'popup.png') });
  check(text.includes(red.properties.name), `a click on ${red.properties.name} opens a popup with its name`);
  check(text.includes('风险等级') && text.includes('重大风险'), 'the popup names the field 风险等级 and the grade 重大风险');
  await page.evaluate(() => document.querySelectorAll('.maplibregl-popup').forEach((p) => p.remove()));
}

// 3. Switching the grid off changes the map; on again, it is as before.
const district = info.districts[0];
await page.evaluate((b) => window.riskatlas.map.fitBounds(b, { padding: 20, duration: 0 }), district.bounds);
await idle();
const withGrid = await mapPixels('district');
await page.locator('input[data-layer="exposure_grid"]').click();
await idle();
const withoutGrid = await mapPixels('district-no-grid');
const changed = await changedPixels(withGrid, withoutGrid);
check(changed > 1000, `switching the grid off changes ${changed} pixels of ${district.name}`);
await page.locator('input[data-layer="exposure_grid"]').click();
await idle();

// 4. The district list zooms to a district.
await page.locator(`li.district[data-code="${info.districts.at(-1).code}"]`).click();
await idle();
const centre = await page.evaluate(() => window.riskatlas.map.getCenter().toArray());
const b = info.districts.at(-1).bounds;
check(centre[0] > b[0] && centre[0] < b[2] && centre[1] > b[1] && centre[1] < b[3], `the district list zooms to ${info.districts.at(-1).name}`);

check(problems.length === 0, `no console error or failed request${problems.length ? `: ${problems.join('; ')}` : ''}`);
if (netLog.length) console.log(`     loads the network layer saw fail: ${netLog.join('; ')}`);
await browser.close();
process.exit(failures.length ? 1 : 0);
