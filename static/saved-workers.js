// Saved workers. The list comes from /api/saved-workers on the session cookie alone, so it works
// while Clerk's script is slow or unreachable; Clerk, once loaded, signs in and keeps the cookie
// fresh (POST /api/auth/session-refresh every 30 s). Each worker gets a 24 h chart from
// /api/saved-workers/history (refetched once a minute: the data is per minute), a notify switch
// and a remove button. Sign-out signs Clerk out too, then lets /logout clear the cookie. The
// notification card (when the pool offers channels) shows the user's own targets and hands out a
// one-time link code for Telegram or Discord.
import { ago, format } from "./format.js";

const LIST_EVERY_MS = 5_000;
const HISTORY_EVERY_MS = 60_000;
const SESSION_EVERY_MS = 30_000;
const CLERK_WAIT_MS = 10_000;
const DAY_MS = 86_400_000;
const CHART_W = 240;
const CHART_H = 40;
const SVG = "http://www.w3.org/2000/svg";

const list = document.getElementById("saved-workers");
const signIn = document.getElementById("clerk-sign-in");
const signOut = document.getElementById("sign-out");
const note = document.getElementById("sign-in-note");
const unavailable = document.getElementById("clerk-unavailable");
const saveCard = document.getElementById("save-card");
const notifyCard = document.getElementById("notify-card");

const SIGNED_IN_NOTE = "Signed in. Your saved workers and their last 24 hours are below.";
const signedOutNote = note?.textContent ?? "";

/** hash → { fetchedAt, history } */
const histories = new Map();
let clerk;
let signedIn = false;
let listTimer;

function waitForClerk(ms) {
  return new Promise((resolve) => {
    const end = Date.now() + ms;
    const check = () => {
      if (globalThis.Clerk) resolve(globalThis.Clerk);
      else if (Date.now() > end) resolve(undefined);
      else setTimeout(check, 100);
    };
    check();
  });
}

async function refreshSession() {
  const token = await clerk.session?.getToken();
  if (!token) return;
  await fetch("/api/auth/session-refresh", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
    credentials: "same-origin",
  });
}

function setSignedIn(yes) {
  signedIn = yes;
  signOut.classList.toggle("hidden", !yes);
  note.textContent = yes ? SIGNED_IN_NOTE : signedOutNote;
  saveCard.classList.toggle("hidden", !yes);
  notifyCard?.classList.toggle("hidden", !yes);
  if (yes) {
    signIn.replaceChildren();
    unavailable.classList.add("hidden");
  }
  list.dataset.state = yes ? "signed-in" : "signed-out";
}

/**
 * The line of a 24 h history in a `width`×`height` box: x is time over the day up to `now`, y the
 * hashrate over the day's top. Consecutive minutes join; a gap (offline) starts a new segment, and
 * a lone minute is drawn as a short dash so it shows.
 */
function historyPath(points, now, width, height) {
  const from = now - DAY_MS;
  let max = 0;
  for (const p of points) max = Math.max(max, p.hashrate);
  const top = max > 0 ? max * 1.1 : 1;
  const x = (t) => Math.max(0, Math.min(width, ((t - from) / DAY_MS) * width));
  const y = (v) => height - (v / top) * height;
  const parts = [];
  let lastAt = -Infinity;
  let segment = 0;
  for (const p of points) {
    const at = Date.parse(p.at);
    if (!Number.isFinite(at) || at < from) continue;
    const xy = x(at).toFixed(1) + "," + y(p.hashrate).toFixed(1);
    if (at - lastAt > 60_000) {
      if (segment === 1) parts.push("h2");
      parts.push("M" + xy);
      segment = 1;
    } else {
      parts.push("L" + xy);
      segment++;
    }
    lastAt = at;
  }
  if (segment === 1) parts.push("h2");
  return { line: parts.join(""), max };
}

function chart(hash) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${CHART_W} ${CHART_H}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.dataset.history = hash;
  // CSSOM, not a style attribute: allowed by the page's CSP.
  svg.style.width = CHART_W / 2 + "px";
  svg.style.height = CHART_H / 2 + "px";
  svg.style.display = "block";
  // The day's frame: a faint baseline under the whole 24 h, so a short history reads as short.
  const base = document.createElementNS(SVG, "path");
  base.setAttribute("d", `M0,${CHART_H - 0.5}H${CHART_W}`);
  base.setAttribute("stroke", "currentColor");
  base.setAttribute("stroke-opacity", "0.25");
  base.setAttribute("vector-effect", "non-scaling-stroke");
  const line = document.createElementNS(SVG, "path");
  line.setAttribute("class", "line");
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "currentColor");
  line.setAttribute("stroke-width", "2");
  line.setAttribute("vector-effect", "non-scaling-stroke");
  line.style.stroke = "var(--chart-line)";
  svg.append(base, line);
  drawChart(svg);
  return svg;
}

function drawChart(svg) {
  const cached = histories.get(svg.dataset.history);
  const { line, max } = historyPath(cached?.history ?? [], Date.now(), CHART_W, CHART_H);
  svg.querySelector("path.line").setAttribute("d", line);
  svg.dataset.points = String(cached?.history.length ?? 0);
  svg.setAttribute(
    "aria-label",
    cached ? `last 24 h, peak ${format("hashrate", max)}` : "last 24 h: loading",
  );
}

async function loadHistory(hash) {
  const cached = histories.get(hash);
  if (cached && Date.now() - cached.fetchedAt < HISTORY_EVERY_MS) return;
  const res = await fetch(`/api/saved-workers/history?hash=${hash}`, {
    credentials: "same-origin",
    cache: "no-store",
  });
  if (!res.ok) return;
  const body = await res.json();
  histories.set(hash, { fetchedAt: Date.now(), history: body.history ?? [] });
  for (const svg of list.querySelectorAll(`svg[data-history="${hash}"]`)) drawChart(svg);
}

function cell(content, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  if (typeof content === "string") td.textContent = content;
  else td.append(content);
  return td;
}

function notifySwitch(worker) {
  const label = document.createElement("label");
  const box = document.createElement("input");
  box.type = "checkbox";
  box.className = "notify";
  box.checked = worker.notify_enabled;
  box.setAttribute("aria-label", "notify when it goes offline or comes back");
  box.addEventListener("change", async () => {
    box.disabled = true;
    const want = box.checked;
    try {
      const res = await fetch("/api/saved-workers/notify-enabled", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ hash: worker.hash, enabled: want }),
        credentials: "same-origin",
      });
      if (!res.ok) throw new Error(String(res.status));
      box.checked = (await res.json()).enabled;
    } catch {
      box.checked = !want;
    } finally {
      box.disabled = false;
    }
  });
  label.append(box);
  return label;
}

function removeButton(worker) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "remove";
  button.textContent = "Remove";
  button.addEventListener("click", async () => {
    button.disabled = true;
    const res = await fetch("/worker/remove", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ hash: worker.hash }).toString(),
      credentials: "same-origin",
    }).catch(() => undefined);
    if (res?.ok) histories.delete(worker.hash);
    await showWorkers().catch(() => {});
    button.disabled = false;
  });
  return button;
}

function row(worker) {
  const tr = document.createElement("tr");
  tr.dataset.hash = worker.hash;
  tr.dataset.online = worker.online ? "1" : "0";
  const status = worker.online
    ? "online"
    : worker.last_online_at
    ? "offline, seen " + ago(worker.last_online_at)
    : "offline";
  tr.append(
    cell(worker.name, "name"),
    cell(status, "status"),
    cell(format("workerHashrate", worker), "num hashrate"),
    cell(format("decimal", worker.shares_per_minute), "num spm"),
    cell(format("integer", worker.accepted), "num accepted"),
    cell(format("difficulty", worker.best_difficulty), "num best"),
    cell(chart(worker.hash), "history"),
    cell(notifySwitch(worker), "notify"),
    cell(removeButton(worker), "actions"),
  );
  return tr;
}

function render(data) {
  const workers = [...(data.online_workers || []), ...(data.offline_workers || [])];
  if (workers.length === 0) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = "No saved workers yet. Save one with the form above.";
    list.replaceChildren(p);
    return;
  }
  const table = document.createElement("table");
  const head = document.createElement("tr");
  const labels = ["Worker", "Status", "Hashrate", "Shares/min", "Accepted", "Best", "24 h"];
  for (const label of [...labels, "Notify", ""]) {
    const th = document.createElement("th");
    th.textContent = label;
    head.append(th);
  }
  const thead = document.createElement("thead");
  thead.append(head);
  const tbody = document.createElement("tbody");
  tbody.append(...workers.map(row));
  table.append(thead, tbody);
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  wrap.append(table);
  const summary = document.createElement("p");
  summary.className = "muted";
  summary.id = "saved-summary";
  summary.textContent = `${data.online_count} of ${data.saved_count} online · ` +
    `${data.saved_count}/${data.saved_max} saved`;
  list.replaceChildren(summary, wrap);
  // One connection of a worker is one row: fetch each hash's history once.
  for (const hash of new Set(workers.map((w) => w.hash))) loadHistory(hash).catch(() => {});
}

/** Fills the notification card from the list's `notify` and Discord fields (never while typing). */
function renderNotify(data) {
  if (!notifyCard) return;
  const n = data.notify ?? {};
  for (const [id, value] of [["notify-ntfy", n.ntfy_url], ["notify-webhook", n.webhook_url]]) {
    const input = document.getElementById(id);
    if (input && document.activeElement !== input) input.value = value ?? "";
  }
  const secret = document.getElementById("notify-webhook-secret");
  if (secret) secret.textContent = n.webhook_secret ?? "shown once a URL is saved";
  const linked = document.getElementById("notify-linked");
  if (linked) {
    const parts = [];
    if (n.telegram_linked !== undefined) {
      parts.push(
        `Telegram: ${
          n.telegram_linked ? (n.telegram_notify_enabled ? "linked" : "linked, off") : "not linked"
        }`,
      );
    }
    if (data.discord_registered !== undefined) {
      parts.push(
        `Discord: ${
          data.discord_registered
            ? (data.discord_notify_enabled ? "linked" : "linked, off")
            : "not linked"
        }`,
      );
    }
    linked.textContent = parts.join(" · ");
  }
}

function setUpLinkCode() {
  const button = document.getElementById("notify-code");
  const out = document.getElementById("notify-code-value");
  if (!button || !out) return;
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const res = await fetch("/api/saved-workers/one-time-code", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
        credentials: "same-origin",
      });
      out.textContent = res.ok ? (await res.json()).code : "no code (try again)";
    } finally {
      button.disabled = false;
    }
  });
}

async function showWorkers() {
  const res = await fetch("/api/saved-workers", { credentials: "same-origin", cache: "no-store" });
  if (res.status === 401) {
    setSignedIn(false);
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = "Signed-in users see their saved workers here.";
    list.replaceChildren(p);
    return;
  }
  if (!res.ok) {
    list.dataset.state = "error";
    return;
  }
  const data = await res.json();
  setSignedIn(true);
  render(data);
  renderNotify(data);
}

function pollList() {
  clearInterval(listTimer);
  listTimer = setInterval(() => {
    if (signedIn) showWorkers().catch(() => {});
  }, LIST_EVERY_MS);
}

async function startClerk() {
  clerk = await waitForClerk(CLERK_WAIT_MS);
  if (!clerk) {
    if (!signedIn) unavailable.classList.remove("hidden");
    return;
  }
  await clerk.load();
  if (clerk.user) {
    await refreshSession();
    setInterval(() => refreshSession().catch(() => {}), SESSION_EVERY_MS);
    await showWorkers();
  } else if (!signedIn) {
    clerk.mountSignIn(signIn);
  }
}

async function main() {
  setUpLinkCode();
  signOut.addEventListener("click", async (event) => {
    if (!clerk?.user) return; // the plain link clears the cookie
    event.preventDefault();
    await clerk.signOut().catch(() => {});
    location.assign(signOut.href);
  });
  await showWorkers().catch(() => {
    list.dataset.state = "error";
  });
  pollList();
  await startClerk().catch(() => {
    if (!signedIn) unavailable.classList.remove("hidden");
  });
}

if (list && signIn && signOut) main();
