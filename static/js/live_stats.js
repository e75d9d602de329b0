// Live public figures (lawyers online now, average first response, satisfaction) and the ticker
// of recent consultations, from GET /api/v1/stats/public: the home page and the question pages.
// Anonymous visitors have no socket, so the figures are polled (and refreshed on tab focus).
import { api } from "./socket.js";
import { agoText, durationText, integerText, percentText, timeOfDayText } from "./format.js";

const REFRESH_MS = 10000;
const FIGURES = {
  lawyers_online: integerText,
  avg_first_response_seconds: durationText,
  satisfaction_rate: percentText,
};

function setFigure(stats, name, raw) {
  const el = stats.querySelector(`[data-stat="${name}"]`);
  const value = raw == null ? "" : String(raw);
  if (!el || el.dataset.raw === value) return; // unchanged: keep the server's rendering
  el.dataset.raw = value;
  const text = raw == null ? null : FIGURES[name](raw);
  el.textContent = text == null ? (el.dataset.empty || "—") : text;
  el.classList.toggle("muted", text == null);
}

function tickerRow(item, action, isNew) {
  const li = document.createElement("li");
  const who = document.createElement("span");
  who.className = "who";
  who.textContent = item.asker || ""; // "A user in Jinan": never a name nor a phone number
  const what = document.createElement("span");
  what.textContent = action;
  const when = document.createElement("span");
  when.className = "when";
  when.textContent = agoText(item.seconds_ago);
  li.append(who, what, when);
  if (isNew) li.classList.add("fresh");
  return li;
}

/**
 * Keep `stats` (a <dl> of [data-stat] figures) and `ticker` (a <ul>, optional) up to date.
 * Either may start `hidden`: it is shown once the first answer arrives (the ticker only when it
 * has items, unless it holds a [data-placeholder] row for "none yet"). `updated`, optional,
 * gets the time of the last refresh. `limit`: ticker rows shown (data-limit, default 8).
 */
export function keepLive({ stats, ticker = null, updated = null }) {
  const limit = Number(ticker?.dataset.limit) || 8;
  let seen = []; // [{who, at}] of the items shown last time
  let firstRender = true; // items already on the page are not "fresh"

  function renderTicker(recent) {
    const items = recent.slice(0, limit);
    const placeholder = ticker.querySelector("[data-placeholder]");
    if (!items.length) {
      if (placeholder) placeholder.hidden = false;
      return;
    }
    const now = Date.now() / 1000;
    const shown = [];
    const rows = items.map((item) => {
      const who = item.asker;
      const at = now - item.seconds_ago;
      const isNew = !seen.some((s) => s.who === who && Math.abs(s.at - at) <= 3);
      shown.push({ who, at });
      return tickerRow(item, ticker.dataset.action, !firstRender && isNew);
    });
    seen = shown;
    ticker.replaceChildren(...rows);
    ticker.hidden = false;
  }

  async function refresh() {
    try {
      const data = await api("/stats/public");
      for (const name of Object.keys(FIGURES)) setFigure(stats, name, data[name]);
      stats.hidden = false;
      if (ticker) renderTicker(data.recent || []);
      firstRender = false;
      if (updated) updated.textContent = timeOfDayText(new Date());
    } catch (_) {
      // keep the last figures; the next tick tries again
    }
  }

  refresh(); // figures the server rendered stay; this first refresh learns the ticker's items
  setInterval(() => { if (document.visibilityState === "visible") refresh(); }, REFRESH_MS);
  document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible") refresh(); });
}
