// The ask form: price only for paid consultations, the lawyers online in the chosen city who
// could take the consultation as it stands, and similar questions as the asker types.
// Everything works without it.
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

let onlineSeq = 0;
const ONLINE_TEMPLATES = { public: "templatePublic", free: "templateFree", paid: "templatePaid" };

// yuan as typed ("49", "49.5") → fen, or null when it is not a price
function priceInFen(text) {
  const match = /^\s*(\d{1,7})(?:\.(\d{1,2}))?\s*$/.exec(text || "");
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] || "0").padEnd(2, "0"));
}

// Public questions: every lawyer online in the city. A consultation: the lawyers its first
// matching stage would offer it to now (its practice area, and free or at its price).
function onlineQuery(out) {
  const city = form.elements.city.value;
  const mode = modeOf();
  if (!city) return null;
  if (mode === "public") {
    return { url: `${out.dataset.onlineEndpoint}?region=${encodeURIComponent(city)}`, mode, key: "online" };
  }
  const category = form.elements.category.value;
  const price = mode === "paid" ? priceInFen(form.elements.price.value) : 0;
  if (!category || price === null) return null;
  const params = new URLSearchParams({ city, category, price: String(price) });
  return { url: `${out.dataset.availableEndpoint}?${params}`, mode, key: "available" };
}

async function showOnline() {
  const out = document.getElementById("online-here");
  if (!out) return;
  const query = onlineQuery(out);
  const seq = ++onlineSeq;
  if (!query) {
    out.hidden = true;
    return;
  }
  try {
    const response = await fetch(query.url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (seq !== onlineSeq) return;
    if (!response.ok) {
      out.hidden = true;
      return;
    }
    const count = (await response.json())[query.key];
    const template = count === 0 && query.mode !== "public" ? "templateNone" : ONLINE_TEMPLATES[query.mode];
    out.textContent = out.dataset[template].replace("{count}", String(count));
    out.hidden = false;
  } catch (_) {
    if (seq === onlineSeq) out.hidden = true;
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
  let priceTimer = null;
  form.addEventListener("change", (event) => {
    if (event.target.name === "mode") syncMode();
    if (["city", "category", "mode", "price"].includes(event.target.name)) showOnline();
    if (event.target.name === "category") showSimilar();
  });
  form.addEventListener("input", (event) => {
    if (event.target.name === "price") {
      clearTimeout(priceTimer);
      priceTimer = setTimeout(showOnline, 400);
      return;
    }
    if (event.target.name !== "title" && event.target.name !== "body") return;
    clearTimeout(similarTimer);
    similarTimer = setTimeout(showSimilar, 400);
  });
  syncMode();
  showOnline();
}
