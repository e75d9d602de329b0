// Staff live dashboard: renders GET /api/v1/admin/dashboard and polls it. Presence changes
// within one heartbeat, so a few seconds of polling shows lawyers coming and going live.
// The verification list follows the staff socket: on `verification.changed` (a lawyer joined or
// left the queue) and on every (re)connect it fetches the list as the server renders it.
import { LawlineSocket, api } from "./socket.js";
import { clockText, durationText, integerText, moneyText, percentText, timeText } from "./format.js";

const root = document.getElementById("dashboard");
const labels = root.dataset;
const names = JSON.parse(document.getElementById("dashboard-labels").textContent);
const refreshMs = Number(root.dataset.refresh || 5) * 1000;
let fetchedAt = Date.now();
let waiting = [];

function pick(data, path) {
  return path.split(".").reduce((v, k) => (v == null ? v : v[k]), data);
}

function revenueText(rows) {
  if (!rows || !rows.length) return moneyText(0, "CNY");
  return rows.map((r) => moneyText(r.gross, r.currency)).join(" · ");
}

function derived(data) {
  return {
    ...data,
    online: {
      ...data.online,
      away_text: data.online && data.online.away ? `${integerText(data.online.away)} ${labels.labelAway}` : "",
    },
    waiting: {
      ...data.waiting,
      at_risk_text: data.waiting && data.waiting.at_risk ? `${integerText(data.waiting.at_risk)} ${labels.labelAtRisk}` : "",
    },
    sla_breaches: {
      ...data.sla_breaches,
      week_text: data.sla_breaches ? labels.labelWeekBreaches.replace("{count}", integerText(data.sla_breaches.last_7_days)) : "",
    },
    revenue: { ...data.revenue, today_text: revenueText(data.revenue && data.revenue.today) },
  };
}

function format(path, value) {
  if (value == null) return "—";
  if (path.endsWith("_seconds")) return durationText(value) || "—";
  if (path.endsWith("positive_rate")) return percentText(value) || "—";
  if (typeof value === "number") return integerText(value);
  return String(value);
}

function renderFigures(data) {
  for (const el of root.querySelectorAll("[data-fig]")) {
    el.textContent = format(el.dataset.fig, pick(data, el.dataset.fig));
  }
  for (const el of root.querySelectorAll("[data-alert-when]")) {
    el.classList.toggle("alert", Number(pick(data, el.dataset.alertWhen) || 0) > 0);
  }
}

function renderRegions(online) {
  const box = root.querySelector("[data-regions]");
  const provinces = (online && online.provinces) || [];
  const cities = (online && online.cities) || [];
  if (!provinces.length) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = labels.labelNoneOnline;
    box.replaceChildren(p);
    return;
  }
  const open = new Set([...box.querySelectorAll("details[open]")].map((d) => d.dataset.code));
  const max = Math.max(...provinces.map((p) => p.online), 1);
  const template = document.getElementById("province-template");
  const nodes = provinces.map((province, index) => {
    const details = template.content.firstElementChild.cloneNode(true);
    details.dataset.code = province.code;
    if (open.has(province.code) || (!open.size && index === 0 && !box.dataset.rendered)) details.open = true;
    details.querySelector("[data-name]").textContent = province.name;
    const meter = details.querySelector("[data-meter]");
    meter.max = max;
    meter.value = province.online;
    meter.textContent = `${province.online}/${max}`;
    details.querySelector("[data-count]").textContent = integerText(province.online);
    const list = details.querySelector("[data-cities]");
    for (const city of cities.filter((c) => c.parent === province.code)) {
      const li = document.createElement("li");
      li.dataset.code = city.code;
      const name = document.createElement("span");
      name.textContent = city.name;
      const count = document.createElement("strong");
      count.className = "num";
      count.textContent = integerText(city.online);
      li.append(name, count);
      list.append(li);
    }
    return details;
  });
  box.replaceChildren(...nodes);
  box.dataset.rendered = "1";
}

function renderWaiting() {
  const body = root.querySelector("[data-waiting]");
  const elapsed = (Date.now() - fetchedAt) / 1000;
  if (!waiting.length) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 6;
    td.className = "empty";
    td.textContent = labels.labelNoneWaiting;
    tr.append(td);
    body.replaceChildren(tr);
    return;
  }
  body.replaceChildren(...waiting.map((c) => {
    const tr = document.createElement("tr");
    const cells = [
      `#${c.id}`,
      c.city_name || c.city,
      names.categories[c.category] || c.category,
      `${names.scopes[c.scope] || c.scope} · ${names.states[c.state] || c.state}`,
      clockText(c.age_seconds + elapsed),
      c.sla_seconds_left == null ? "—" : clockText(c.sla_seconds_left - elapsed),
    ];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      if (i >= 4) td.className = "num";
      if (i === 5 && c.sla_seconds_left != null && c.sla_seconds_left - elapsed < 120) td.classList.add("age-late");
      tr.append(td);
    });
    return tr;
  }));
}

function renderRevenue(revenue) {
  for (const tr of root.querySelectorAll("[data-revenue] tr[data-period]")) {
    for (const td of tr.querySelectorAll("td")) td.remove();
    const rows = (revenue && revenue[tr.dataset.period]) || [];
    const sum = (key) => rows.map((r) => moneyText(r[key], r.currency)).join(" · ") || moneyText(0, "CNY");
    const cells = [sum("gross"), sum("platform_fees"), sum("lawyer_earnings"), sum("refunded"),
      integerText(rows.reduce((n, r) => n + (r.payments || 0), 0))];
    for (const text of cells) {
      const td = document.createElement("td");
      td.className = "num";
      td.textContent = text;
      tr.append(td);
    }
  }
}

function render(data) {
  fetchedAt = Date.now();
  const view = derived(data);
  renderFigures(view);
  renderRegions(data.online);
  waiting = (data.waiting && data.waiting.oldest) || [];
  renderWaiting();
  renderRevenue(data.revenue);
  const updated = root.querySelector("[data-updated]");
  updated.dateTime = data.generated_at || new Date().toISOString();
  updated.textContent = timeText(updated.dateTime) || "";
}

async function refresh() {
  try {
    render(await api("/admin/dashboard"));
    root.querySelector("[data-refresh-state]").classList.remove("age-late");
  } catch (_) {
    root.querySelector("[data-refresh-state]").classList.add("age-late");
  }
}

// --- lawyer verification ---------------------------------------------------------------------
// a decision made on this page stays in view with its outcome this long before it leaves
const DECIDED_SHOWN_MS = 2500;

function verificationCount(n) {
  root.querySelector("[data-verification-count]").textContent = String(Math.max(0, n));
}

let syncing = null;
let syncAgain = false;

/** Replace the list with the server's, keeping the nodes of lawyers still in it (a reason being
 * typed, a button in flight) and, for a moment, the ones just decided here. */
async function syncVerifications() {
  if (syncing) { syncAgain = true; return syncing; }
  syncing = (async () => {
    try {
      const response = await fetch("/dashboard/verifications/", { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (!response.ok) return;
      const template = document.createElement("template");
      template.innerHTML = await response.text();
      const fresh = template.content.querySelector("[data-verification-list]");
      const current = root.querySelector("[data-verification-list]");
      if (!fresh || !current) return;
      const kept = new Map([...current.querySelectorAll("li[data-lawyer]")].map((li) => [li.dataset.lawyer, li]));
      const freshList = fresh.querySelector("[data-verifications]");
      for (const li of [...fresh.querySelectorAll("li[data-lawyer]")]) {
        const old = kept.get(li.dataset.lawyer);
        if (old && !old.dataset.decided) li.replaceWith(old);
      }
      for (const old of kept.values()) {
        if (old.dataset.decided && old.isConnected && freshList && !freshList.querySelector(`li[data-lawyer="${old.dataset.lawyer}"]`)) {
          freshList.prepend(old);
        }
      }
      current.replaceWith(fresh);
      verificationCount(Number(fresh.dataset.waiting || 0));
    } catch (_) {
      // the next frame or reconnect syncs again
    } finally {
      syncing = null;
      if (syncAgain) { syncAgain = false; syncVerifications(); }
    }
  })();
  return syncing;
}

root.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-verify]");
  if (!button) return;
  const li = button.closest("li[data-lawyer]");
  const approved = button.dataset.verify === "true";
  const reason = li.querySelector("input").value.trim();
  const result = li.querySelector("[data-verify-result]");
  for (const b of li.querySelectorAll("button")) b.disabled = true;
  try {
    const decision = await api(`/admin/lawyers/${li.dataset.lawyer}/verify`, { method: "POST", body: { approved, reason } });
    const outcome = names.verification[decision.verification] || decision.verification;
    result.textContent = `${button.textContent} ✓ (${outcome})`;
    result.className = "small badge " + (approved ? "ok" : "bad");
    // decided: its buttons stay disabled; it leaves after a moment (the socket's frame brings
    // the exact count and the next lawyer waiting)
    li.dataset.decided = "1";
    li.classList.add("leaving");
    const counter = root.querySelector("[data-verification-count]");
    verificationCount(Number(counter.textContent) - 1);
    setTimeout(() => { li.remove(); syncVerifications(); }, DECIDED_SHOWN_MS);
  } catch (err) {
    result.textContent = err.message;
    result.className = "small field-error";
    for (const b of li.querySelectorAll("button")) b.disabled = false;
  }
  result.hidden = false;
});

const socket = new LawlineSocket();
socket.on("state", (state) => { root.dataset.socket = state; });
socket.on("verification.changed", () => syncVerifications());
// frames missed while the socket was down: the list as it is now
socket.on("open", () => syncVerifications());
socket.connect();

render(JSON.parse(document.getElementById("dashboard-initial").textContent));
setInterval(() => { if (document.visibilityState === "visible") refresh(); }, refreshMs);
setInterval(renderWaiting, 1000);
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refresh(); });
