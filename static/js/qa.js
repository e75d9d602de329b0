// Public Q&A pages: likes and helpful marks without a reload, more legal-basis rows on demand,
// the question page's live figures. Everything works without this file (plain forms); it only
// saves the round trip.
import { keepLive } from "./live_stats.js";

const LABELS = { like: "liked", helpful: "marked_helpful" };

function setupReactions() {
  document.querySelectorAll("form[data-reaction]").forEach((form) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button");
      const on = form.elements.on;
      button.disabled = true;
      try {
        const response = await fetch(form.action, {
          method: "POST",
          body: new FormData(form),
          headers: { Accept: "application/json" },
          credentials: "same-origin",
        });
        if (!response.ok) {
          form.submit(); // let the server show the error page or message
          return;
        }
        const data = await response.json();
        const pressed = Boolean(data[LABELS[form.dataset.reaction]]);
        button.setAttribute("aria-pressed", String(pressed));
        on.value = pressed ? "0" : "1";
        const count = button.querySelector("[data-count]");
        if (count && "like_count" in data) count.textContent = String(data.like_count);
      } catch {
        form.submit();
      } finally {
        button.disabled = false;
      }
    });
  });
}

function setupBasisRows() {
  document.querySelectorAll("[data-basis-rows]").forEach((fieldset) => {
    const extra = () => [...fieldset.querySelectorAll(".basis-row[data-extra]")];
    const add = fieldset.querySelector("[data-add-basis]");
    extra().forEach((row) => (row.hidden = true));
    if (!add || !extra().length) return;
    add.hidden = false;
    add.addEventListener("click", () => {
      const next = extra().find((row) => row.hidden);
      if (!next) return;
      next.hidden = false;
      next.querySelector("input")?.focus();
      if (!extra().some((row) => row.hidden)) add.hidden = true;
    });
  });
}

setupReactions();
setupBasisRows();
const liveStats = document.getElementById("live-stats");
if (liveStats) keepLive({ stats: liveStats, ticker: document.getElementById("ticker") });
