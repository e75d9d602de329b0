// The ask form: price only for paid consultations, lawyers online in the chosen city, and
// similar questions as the asker types. Everything works without it.
const form = document.getElementById("ask-form");

function modeOf() {
  const checked = form.querySelector("input[name=mode]:checked");
  return checked ? checked.value : "free";
}

function syncMode() {
  const mode = modeOf();
  form.querySelectorAll("[data-mode-shows]").forEach((el) => {
    el.hidden = el.dataset.modeShows !== mode;
  });
  form.querySelectorAll("[data-mode-hides]").forEach((el) => {
    el.hidden = el.dataset.modeHides === mode;
  });
}

async function showOnline() {
  const out = document.getElementById("online-here");
  const city = form.elements.city.value;
  if (!out || !city) {
    if (out) out.hidden = true;
    return;
  }
  try {
    const response = await fetch(`/api/v1/lawyers/online?region=${encodeURIComponent(city)}`, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) return;
    const body = await response.json();
    out.textContent = out.dataset.template.replace("{count}", String(body.online));
    out.hidden = false;
  } catch (_) {
    out.hidden = true;
  }
}

let similarTimer = null;
let similarSeq = 0;

async function showSimilar() {
  const box = document.getElementById("similar");
  const list = document.getElementById("similar-list");
  const text = `${form.elements.title.value} ${form.elements.body.value}`.trim();
  if (!box || text.length < 4) {
    if (box) box.hidden = true;
    return;
  }
  const seq = ++similarSeq;
  const params = new URLSearchParams({ text: text.slice(0, 300), limit: "5" });
  if (form.elements.category.value) params.set("category", form.elements.category.value);
  try {
    const response = await fetch(`${box.dataset.endpoint}?${params}`, { credentials: "same-origin" });
    if (!response.ok || seq !== similarSeq) return;
    const rows = await response.json();
    list.replaceChildren(
      ...rows.map((row) => {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = row.url;
        link.textContent = row.title; // text, never HTML
        const meta = document.createElement("div");
        meta.className = "small muted";
        meta.textContent = [row.city_name, row.category_name].filter(Boolean).join(" · ");
        item.append(link, meta);
        return item;
      }),
    );
    box.hidden = rows.length === 0;
  } catch (_) {
    box.hidden = true;
  }
}

if (form) {
  form.addEventListener("change", (event) => {
    if (event.target.name === "mode") syncMode();
    if (event.target.name === "city") showOnline();
    if (event.target.name === "category") showSimilar();
  });
  form.addEventListener("input", (event) => {
    if (event.target.name !== "title" && event.target.name !== "body") return;
    clearTimeout(similarTimer);
    similarTimer = setTimeout(showSimilar, 400);
  });
  syncMode();
  showOnline();
}
