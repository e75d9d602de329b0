// Home page: live counters and the ticker of recent consultations, from GET /api/v1/stats/public.
// Anonymous visitors have no socket, so the figures are polled (and refreshed on tab focus).
import { api } from "./socket.js";
import { agoText, durationText, integerText, percentText } from "./format.js";

const REFRESH_MS = 10000;
const stats = document.getElementById("live-stats");
const ticker = document.getElementById("ticker");
const updated = document.getElementById("stats-updated");
let seen = new Set();
let firstRender = true;

function setFigure(name, text) {
  const el = stats.querySelector(`[data-stat="${name}"]`);
  if (!el) return;
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
  const fresh = new Set();
  const rows = items.map((item) => {
    const key = `${item.city}|${item.masked_phone}|${Math.round((Date.now() / 1000 - item.seconds_ago) / 30)}`;
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
    if (!firstRender && !seen.has(key)) li.classList.add("fresh");
    fresh.add(key);
    return li;
  });
  seen = fresh;
  ticker.replaceChildren(...rows);
}

async function refresh() {
  try {
    const data = await api("/stats/public");
    setFigure("lawyers_online", integerText(data.lawyers_online));
    setFigure("avg_first_response_seconds", durationText(data.avg_first_response_seconds));
    setFigure("satisfaction_rate", percentText(data.satisfaction_rate));
    renderTicker(data.recent || []);
    firstRender = false;
    stats.setAttribute("aria-busy", "false");
    if (updated) updated.textContent = new Intl.DateTimeFormat(document.documentElement.lang, { timeStyle: "medium" }).format(new Date());
  } catch (_) {
    // keep the last figures; the next tick tries again
  }
}

if (stats) {
  refresh();
  setInterval(() => { if (document.visibilityState === "visible") refresh(); }, REFRESH_MS);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refresh(); });
}
