// Home page: live counters and the ticker of recent consultations, from GET /api/v1/stats/public.
// Anonymous visitors have no socket, so the figures are polled (and refreshed on tab focus).
import { api } from "./socket.js";
import { agoText, durationText, integerText, percentText } from "./format.js";

const REFRESH_MS = 10000;
const stats = document.getElementById("live-stats");
const ticker = document.getElementById("ticker");
const updated = document.getElementById("stats-updated");
let seen = []; // [{who, at}] of the items shown last time
let firstRender = true; // items the server rendered are not "fresh"

function setFigure(name, raw, format) {
  const el = stats.querySelector(`[data-stat="${name}"]`);
  const value = raw == null ? "" : String(raw);
  if (!el || el.dataset.raw === value) return; // unchanged: keep the server's rendering
  el.dataset.raw = value;
  const text = raw == null ? null : format(raw);
  el.textContent = text == null ? (el.dataset.empty || "—") : text;
  el.classList.toggle("muted", text == null);
}

function renderTicker(recent) {
  const action = ticker.dataset.action;
  const items = recent.slice(0, 8);
  const placeholder = ticker.querySelector("[data-placeholder]");
  if (!items.length) {
    if (placeholder) placeholder.hidden = false;
    return;
  }
  const now = Date.now() / 1000;
  const shown = [];
  const rows = items.map((item) => {
    const who = `${item.city}|${item.masked_phone}`;
    const at = now - item.seconds_ago;
    const isNew = !seen.some((s) => s.who === who && Math.abs(s.at - at) <= 3);
    const li = document.createElement("li");
    const city = document.createElement("span");
    city.className = "city";
    city.textContent = item.city || "";
    const phone = document.createElement("span");
    phone.className = "phone";
    phone.textContent = item.masked_phone || "";
    const what = document.createElement("span");
    what.textContent = action;
    const when = document.createElement("span");
    when.className = "when";
    when.textContent = agoText(item.seconds_ago);
    li.append(city, phone, what, when);
    if (!firstRender && isNew) li.classList.add("fresh");
    shown.push({ who, at });
    return li;
  });
  seen = shown;
  ticker.replaceChildren(...rows);
}

async function refresh() {
  try {
    const data = await api("/stats/public");
    setFigure("lawyers_online", data.lawyers_online, integerText);
    setFigure("avg_first_response_seconds", data.avg_first_response_seconds, durationText);
    setFigure("satisfaction_rate", data.satisfaction_rate, percentText);
    renderTicker(data.recent || []);
    firstRender = false;
    if (updated) updated.textContent = new Intl.DateTimeFormat(document.documentElement.lang, { timeStyle: "medium" }).format(new Date());
  } catch (_) {
    // keep the last figures; the next tick tries again
  }
}

if (stats) {
  refresh(); // the server rendered the figures; this first refresh learns the ticker's items
  setInterval(() => { if (document.visibilityState === "visible") refresh(); }, REFRESH_MS);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refresh(); });
}
