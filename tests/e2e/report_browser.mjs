// report_browser.mjs: opens report.html in Debian's headless Chromium and
// checks it through the Chrome DevTools Protocol (Node 20: run with
// `node --experimental-websocket`; no npm package, no downloaded browser).
//
//   node --experimental-websocket report_browser.mjs REPORT.html
//        [--expect chart,chart,...] [--screenshot FILE.png] [--width PX]
//        [--scale S] [--clip Y:H | --clip-id ID]
//
// Fails (exit 1, one line per problem) when the page logs a console error
// or throws, when it makes any request other than loading its own file,
// when a canvas has no chart, or when a chart lacks data points, a title,
// axis titles or tooltips. --expect names charts (data-chart values) that
// must be present. --screenshot saves the whole page as PNG (or the part
// --clip gives, in CSS pixels, or the element --clip-id names), scaled by --scale.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const report = args[0];
if (!report || !fs.existsSync(report)) {
  console.error('usage: node --experimental-websocket report_browser.mjs REPORT.html [--expect a,b] [--screenshot F]');
  process.exit(2);
}
const expect = (opt('--expect', '') || '').split(',').filter(Boolean);
const shot = opt('--screenshot', null);
const width = Number(opt('--width', '1280'));
const scale = Number(opt('--scale', '1'));
const clipArg = opt('--clip', null); // "Y:H" in CSS pixels: a part of the page
const clipId = opt('--clip-id', null); // or the box of the element with this id
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const pageUrl = pathToFileURL(path.resolve(report)).href;
const problems = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'segcast-chromium-'));
const browser = spawn(chromium, [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-default-apps', '--disable-extensions', '--hide-scrollbars', '--mute-audio',
  `--user-data-dir=${profile}`, '--remote-debugging-port=0', `--window-size=${width},900`, 'about:blank',
], { stdio: ['ignore', 'ignore', 'pipe'] });
let browserLog = '';
browser.stderr.on('data', (d) => { browserLog += d; });

let ws;
function cleanup() {
  try { ws && ws.close(); } catch (e) { /* closing anyway */ }
  try { browser.kill('SIGKILL'); } catch (e) { /* gone already */ }
  try { fs.rmSync(profile, { recursive: true, force: true }); } catch (e) { /* best effort */ }
}
const timer = setTimeout(() => {
  console.error('report_browser: timed out after 90 s');
  cleanup();
  process.exit(1);
}, 90000);

// DevToolsActivePort holds the port and the browser's websocket path.
async function endpoint() {
  const f = path.join(profile, 'DevToolsActivePort');
  for (let i = 0; i < 300; i++) {
    if (fs.existsSync(f)) {
      const [port, p] = fs.readFileSync(f, 'utf8').split('\n');
      if (port && p) return `ws://127.0.0.1:${port}${p}`;
    }
    if (browser.exitCode !== null) break;
    await sleep(100);
  }
  throw new Error(`chromium did not start: ${browserLog.slice(-2000)}`);
}

let nextId = 1;
const pending = new Map();
const listeners = [];
function send(method, params = {}, sessionId) {
  const id = nextId++;
  ws.send(JSON.stringify({ id, method, params, sessionId }));
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject, method }));
}
function waitFor(method, ms = 30000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${method} within ${ms} ms`)), ms);
    listeners.push({ method, fn: (p) => { clearTimeout(t); resolve(p); } });
  });
}

async function main() {
  ws = new WebSocket(await endpoint());
  await new Promise((resolve, reject) => { ws.onopen = resolve; ws.onerror = reject; });
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.id && pending.has(m.id)) {
      const p = pending.get(m.id);
      pending.delete(m.id);
      if (m.error) p.reject(new Error(`${p.method}: ${m.error.message}`));
      else p.resolve(m.result);
      return;
    }
    const prm = m.params || {};
    switch (m.method) {
      case 'Network.requestWillBeSent':
        if (prm.request.url !== pageUrl) problems.push(`network request: ${prm.request.url}`);
        break;
      case 'Runtime.consoleAPICalled':
        if (prm.type === 'error' || prm.type === 'assert')
          problems.push(`console ${prm.type}: ${prm.args.map((a) => a.value ?? a.description).join(' ')}`);
        break;
      case 'Runtime.exceptionThrown':
        problems.push(`exception: ${prm.exceptionDetails.exception?.description || prm.exceptionDetails.text}`);
        break;
      case 'Log.entryAdded':
        if (prm.entry.level === 'error') problems.push(`log error: ${prm.entry.text} ${prm.entry.url || ''}`);
        break;
      default:
    }
    for (let i = listeners.length - 1; i >= 0; i--) {
      if (listeners[i].method === m.method) {
        const l = listeners.splice(i, 1)[0];
        l.fn(prm);
      }
    }
  };
  const { targetId } = await send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
  const s = (method, params) => send(method, params, sessionId);
  await s('Page.enable');
  await s('Runtime.enable');
  await s('Log.enable');
  await s('Network.enable');
  await s('Emulation.setDeviceMetricsOverride', { width, height: 900, deviceScaleFactor: 1, mobile: false });
  const loaded = waitFor('Page.loadEventFired');
  await s('Page.navigate', { url: pageUrl });
  await loaded;
  await sleep(500); // late errors (a chart drawn after load) still count

  const probe = `(() => {
    const out = { canvases: [], charts: (window.segcastCharts || []).length, ready: document.body.getAttribute('data-charts-ready') };
    for (const el of document.querySelectorAll('canvas')) {
      const c = (typeof Chart !== 'undefined') ? Chart.getChart(el) : null;
      const r = { id: el.id, kind: el.getAttribute('data-chart'), chart: !!c };
      if (c) {
        r.type = c.config.type;
        r.title = c.options.plugins.title.display ? c.options.plugins.title.text : '';
        r.tooltip = c.options.plugins.tooltip.enabled !== false;
        r.datasets = c.data.datasets.map((d, i) => ({
          label: d.label,
          points: (d.data || []).filter((v) => v !== null && v !== undefined &&
            (typeof v === 'number' ? isFinite(v) : (typeof v === 'object' && isFinite(v.x) && isFinite(v.y)))).length,
          drawn: c.getDatasetMeta(i).data.length,
        }));
        r.scales = Object.keys(c.scales).map((k) => ({ id: k, title: c.scales[k].options.title.display ? c.scales[k].options.title.text : '' }));
        r.width = el.width;
        r.height = el.height;
      }
      out.canvases.push(r);
    }
    return JSON.stringify(out);
  })()`;
  const res = await s('Runtime.evaluate', { expression: probe, returnByValue: true });
  const info = JSON.parse(res.result.value);
  if (!info.canvases.length) problems.push('the page has no chart');
  if (info.charts !== info.canvases.length) problems.push(`${info.canvases.length} canvases but ${info.charts} charts`);
  const kinds = new Set();
  let points = 0;
  for (const c of info.canvases) {
    kinds.add(c.kind);
    const who = `chart ${c.id} (${c.kind})`;
    if (!c.chart) { problems.push(`${who}: no chart drawn`); continue; }
    if (!c.title) problems.push(`${who}: no title`);
    if (!c.tooltip) problems.push(`${who}: tooltips disabled`);
    if (!c.datasets.length) problems.push(`${who}: no dataset`);
    for (const d of c.datasets) {
      if (d.points === 0) problems.push(`${who}: dataset "${d.label}" has no data point`);
      if (d.drawn === 0) problems.push(`${who}: dataset "${d.label}" drew nothing`);
      points += d.points;
    }
    if (!c.scales.length) problems.push(`${who}: no axes`);
    for (const a of c.scales) if (!a.title) problems.push(`${who}: axis ${a.id} has no title`);
    if (!(c.width > 0 && c.height > 0)) problems.push(`${who}: zero size`);
  }
  for (const e of expect) if (!kinds.has(e)) problems.push(`expected chart "${e}" is missing`);

  if (shot) {
    const m = await s('Page.getLayoutMetrics');
    const h = Math.ceil(m.cssContentSize ? m.cssContentSize.height : m.contentSize.height);
    // a clip beyond the viewport, so the page is not resized (which would redraw every chart)
    let [cy, ch] = clipArg ? clipArg.split(':').map(Number) : [0, h];
    if (clipId) {
      const box = await s('Runtime.evaluate', { returnByValue: true, expression:
        `(() => { const r = document.getElementById(${JSON.stringify(clipId)}).getBoundingClientRect(); return [r.top + window.scrollY, r.height]; })()` });
      [cy, ch] = box.result.value;
    }
    const img = await s('Page.captureScreenshot', {
      format: 'png', captureBeyondViewport: true, clip: { x: 0, y: cy, width, height: Math.min(ch, h - cy), scale } });
    fs.writeFileSync(shot, Buffer.from(img.data, 'base64'));
  }
  console.log(`report_browser: ${info.canvases.length} charts, ${points} data points, kinds: ${[...kinds].join(' ')}`);
}

main().then(() => {
  clearTimeout(timer);
  cleanup();
  for (const p of problems) console.log(`PROBLEM: ${p}`);
  process.exit(problems.length ? 1 : 0);
}, (e) => {
  clearTimeout(timer);
  cleanup();
  console.error(`report_browser: ${e.message}`);
  process.exit(1);
});
