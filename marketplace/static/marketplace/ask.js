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
let loadingTimer = null;
const ONLINE_TEMPLATES = { public: "templatePublic", free: "templateFree", paid: "templatePaid" };
// a quick answer replaces the last text at once; a slow one says it is counting meanwhile
const LOADING_AFTER_MS = 250;

// yuan as typed ("49", "49.5") → fen, or null when it is not a price
function priceInFen(text) {
  const match = /^\s*(\d{1,7})(?:\.(\d{1,2}))?\s*$/.exec(text || "");
  if (!match) return null;
  return Number(match[1]) * 100 + Number((match[2] || "0").padEnd(2, "0"));
}

// Public questions: every lawyer online in the city. A consultation: the lawyers its first
// matching stage would offer it to now (its practice area, and free or at its price).
// Without what the count needs, the template that says what is missing.
function onlineQuery(out) {
  const city = form.elements.city.value;
  const mode = modeOf();
  if (mode === "public") {
    if (!city) return { missing: "templateChoose" };
    return { url: `${out.dataset.onlineEndpoint}?region=${encodeURIComponent(city)}`, mode, key: "online" };
  }
  const category = form.elements.category.value;
  if (!city || !category) return { missing: "templateChoose" };
  const price = mode === "paid" ? priceInFen(form.elements.price.value) : 0;
  if (price === null) return { missing: "templatePrice" };
  const params = new URLSearchParams({ city, category, price: String(price) });
  return { url: `${out.dataset.availableEndpoint}?${params}`, mode, key: "available" };
}

// data-state (idle, loading, count, none, error) tells tests and styles where the line is;
// its height never changes (ask.css)
function setOnline(out, state, template, count) {
  clearTimeout(loadingTimer);
  out.dataset.state = state;
  out.setAttribute("aria-busy", state === "loading" ? "true" : "false");
  out.textContent = out.dataset[template].replace("{count}", String(count ?? ""));
}

async function showOnline() {
  const out = document.getElementById("online-here");
  if (!out) return;
  const query = onlineQuery(out);
  const seq = ++onlineSeq;
  if (query.missing) {
    setOnline(out, "idle", query.missing);
    return;
  }
  clearTimeout(loadingTimer);
  out.dataset.state = "loading";
  out.setAttribute("aria-busy", "true");
  loadingTimer = setTimeout(() => {
    if (seq === onlineSeq) setOnline(out, "loading", "templateLoading");
  }, LOADING_AFTER_MS);
  try {
    const response = await fetch(query.url, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (seq !== onlineSeq) return;
    if (!response.ok) {
      setOnline(out, "error", "templateError");
      return;
    }
    const count = (await response.json())[query.key];
    if (seq !== onlineSeq) return;
    if (count === 0 && query.mode !== "public") {
      setOnline(out, "none", "templateNone", count);
    } else {
      setOnline(out, "count", ONLINE_TEMPLATES[query.mode], count);
    }
  } catch (_) {
    if (seq === onlineSeq) setOnline(out, "error", "templateError");
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
