// Saved workers with Clerk: mounts the sign-in widget, keeps the session cookie fresh every 30 s
// (POST /api/auth/session-refresh) and lists /api/saved-workers every 5 s.
import { format } from "./format.js";

const list = document.getElementById("saved-workers");
const signIn = document.getElementById("clerk-sign-in");

function waitForClerk() {
  return new Promise((resolve) => {
    const check = () => (globalThis.Clerk ? resolve(globalThis.Clerk) : setTimeout(check, 100));
    check();
  });
}

async function refreshSession(clerk) {
  const token = await clerk.session.getToken();
  if (!token) return;
  await fetch("/api/auth/session-refresh", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
    credentials: "same-origin",
  });
}

function row(worker) {
  const tr = document.createElement("tr");
  const cells = [
    worker.name,
    worker.online ? "online" : "offline",
    format("workerHashrate", worker),
    format("decimal", worker.shares_per_minute),
    format("difficulty", worker.best_difficulty),
  ];
  for (const text of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

async function showWorkers() {
  const res = await fetch("/api/saved-workers", { credentials: "same-origin", cache: "no-store" });
  if (!res.ok) {
    list.dataset.state = res.status === 401 ? "signed-out" : "error";
    return;
  }
  const data = await res.json();
  const workers = [...(data.online_workers || []), ...(data.offline_workers || [])];
  const table = document.createElement("table");
  const head = document.createElement("tr");
  for (const label of ["Worker", "Status", "Hashrate", "Shares/min", "Best share"]) {
    const th = document.createElement("th");
    th.textContent = label;
    head.append(th);
  }
  const tbody = document.createElement("tbody");
  tbody.append(...workers.map(row));
  table.append(head, tbody);
  list.replaceChildren(table);
  list.dataset.state = "signed-in";
}

async function main() {
  const clerk = await waitForClerk();
  await clerk.load();
  if (!clerk.user) {
    clerk.mountSignIn(signIn);
    return;
  }
  signIn.textContent = "Signed in as " + (clerk.user.primaryEmailAddress || clerk.user.id);
  await refreshSession(clerk);
  setInterval(() => refreshSession(clerk).catch(() => {}), 30_000);
  await showWorkers().catch(() => {});
  setInterval(() => showWorkers().catch(() => {}), 5_000);
}

if (list && signIn) main();
