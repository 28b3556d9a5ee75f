// Keeps a server-rendered page fresh from the JSON API: every element with data-k ("api:path")
// gets the new value through the same formatter (data-f) the server used; tables re-render from
// their <template> row; the chart redraws; the block timer ticks every second.
import { ago, chartPaths, format, hashrate, isStale, pick, utc } from "./format.js";

const PATHS = {
  overview: "/api/overview",
  pool: "/api/pool-page",
  node: "/api/node",
  server: "/api/server",
  hashrate: "/api/pool-hashrate?include_history=1",
  blocks: "/api/blocks",
  lookup: "/api/worker-lookup",
};

const body = document.body;
const times = {};
let blockDeadline = NaN;

function urlOf(key) {
  if (key === "blocks") return PATHS.blocks + "?limit=" + (body.dataset.blocksLimit || "10");
  if (key === "lookup") {
    return PATHS.lookup + "?hash=" + encodeURIComponent(body.dataset.hash || "");
  }
  return PATHS[key];
}

function split(binding) {
  const colon = binding.indexOf(":");
  return [binding.slice(0, colon), binding.slice(colon + 1)];
}

function fillRow(row, item) {
  for (const td of row.querySelectorAll("[data-c]")) {
    td.textContent = format(td.dataset.f, pick(item, td.dataset.c));
  }
  return row;
}

function apply(key, data) {
  for (const el of document.querySelectorAll("[data-k]")) {
    const [api, path] = split(el.dataset.k);
    if (api === key) el.textContent = format(el.dataset.f, pick(data, path));
  }
  for (const tbody of document.querySelectorAll("tbody[data-list]")) {
    const [api, path] = split(tbody.dataset.list);
    if (api !== key) continue;
    const value = pick(data, path);
    let items = Array.isArray(value) ? value : [];
    if (tbody.dataset.limit) items = items.slice(0, Number(tbody.dataset.limit));
    const template = tbody.parentElement.querySelector("template");
    if (!template) continue;
    const rows = items.map((item) =>
      fillRow(template.content.firstElementChild.cloneNode(true), item)
    );
    tbody.replaceChildren(...rows);
    const empty = document.querySelector(`[data-empty-for="${tbody.dataset.list}"]`);
    if (empty) empty.classList.toggle("hidden", items.length > 0);
  }
  for (const svg of document.querySelectorAll("svg[data-chart]")) {
    const [api, path] = split(svg.dataset.chart);
    if (api !== key) continue;
    const box = svg.viewBox.baseVal;
    const paths = chartPaths(pick(data, path), box.width, box.height);
    svg.querySelector("path.area").setAttribute("d", paths.area);
    svg.querySelector("path.line").setAttribute("d", paths.line);
    const fig = svg.closest("figure");
    const max = fig && fig.querySelector("[data-chart-max]");
    if (max) max.textContent = paths.max > 0 ? hashrate(paths.max) : "–";
    const range = fig && fig.querySelector("[data-chart-range]");
    if (range && Number.isFinite(paths.from)) {
      range.textContent = utc(new Date(paths.from).toISOString()) + " – " +
        utc(new Date(paths.to).toISOString());
    }
  }
  if (key === "hashrate") {
    const left = data && data.block_time_left_sec;
    blockDeadline = typeof left === "number" && left !== -1 ? Date.now() + left * 1000 : NaN;
  }
}

function updateStale() {
  const now = Date.now();
  let stale = false;
  let newest = 0;
  for (const t of Object.values(times)) {
    if (isStale(t.updatedAt, t.nextUpdateAt, now)) stale = true;
    if (t.updatedAt > newest) newest = t.updatedAt;
  }
  const banner = document.getElementById("stale");
  if (banner && Object.keys(times).length > 0) banner.classList.toggle("hidden", !stale);
  const agoEl = document.getElementById("updated-ago");
  if (agoEl && newest > 0) agoEl.textContent = ago(new Date(newest).toISOString(), now);
  body.toggleAttribute("data-stale", stale);
}

async function poll(key) {
  let delay = 10_000;
  try {
    const res = await fetch(urlOf(key), {
      cache: "no-store",
      headers: { accept: "application/json" },
    });
    if (res.ok) {
      const data = await res.json();
      const updatedAt = Date.parse(res.headers.get("X-JSON-Updated-At") || "");
      const nextUpdateAt = Date.parse(res.headers.get("X-JSON-Next-Update-At") || "");
      times[key] = { updatedAt, nextUpdateAt };
      apply(key, data);
      body.dataset.refreshed = String((Number(body.dataset.refreshed) || 0) + 1);
      if (Number.isFinite(nextUpdateAt)) {
        delay = Math.min(60_000, Math.max(2_000, nextUpdateAt - Date.now() + 500));
        if (isStale(updatedAt, nextUpdateAt)) delay = 10_000;
      }
    }
  } catch (_e) {
    // Network hiccup: keep what is shown and try again.
  }
  updateStale();
  setTimeout(() => poll(key), delay);
}

function tick() {
  if (Number.isFinite(blockDeadline)) {
    const left = Math.ceil((blockDeadline - Date.now()) / 1000);
    for (const el of document.querySelectorAll("[data-countdown] [data-k]")) {
      el.textContent = format("countdown", left === -1 ? -2 : left);
    }
  }
}

function setupTheme() {
  const button = document.getElementById("theme-toggle");
  if (!button) return;
  button.addEventListener("click", () => {
    const root = document.documentElement;
    const dark = root.dataset.theme
      ? root.dataset.theme === "dark"
      : matchMedia("(prefers-color-scheme: dark)").matches;
    root.dataset.theme = dark ? "light" : "dark";
    try {
      localStorage.setItem("theme", root.dataset.theme);
    } catch (_e) { /* not saved: fine */ }
  });
}

function setupCopy() {
  for (const el of document.querySelectorAll("[data-copy]")) {
    el.title = "Click to copy";
    el.addEventListener("click", () => {
      if (!navigator.clipboard) return;
      navigator.clipboard.writeText(el.textContent || "").then(() => {
        el.classList.add("copied");
        setTimeout(() => el.classList.remove("copied"), 1200);
      }, () => {});
    });
  }
}

setupTheme();
setupCopy();
const countdownEl = document.querySelector("[data-countdown] [data-k]");
if (countdownEl) setInterval(tick, 1000);
for (const key of (body.dataset.poll || "").split(/\s+/).filter(Boolean)) poll(key);
