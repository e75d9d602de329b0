// The consult room: pay → waiting screen (driven only by consult.updated `search` frames) →
// chat when consult.matched arrives → close → rate. Every state change comes from the server.
import { LawlineSocket, api } from "./socket.js";
import { ChatView } from "./chat.js";
import { bindNoticeCount } from "./notice_count.js";

const root = document.getElementById("consult");
const consultId = Number(root.dataset.consultId);
const stateLabels = JSON.parse(document.getElementById("consult-state-labels").textContent);
const paymentLabels = JSON.parse(document.getElementById("consult-payment-labels").textContent);
const panels = {};
for (const el of root.querySelectorAll("[data-panel]")) panels[el.dataset.panel] = el;
const CLOSED_STATES = new Set(["resolved", "expired", "canceled", "refunded"]);
const SCOPES = ["city", "province", "nation"];

const socket = new LawlineSocket();
const chatRoot = root.querySelector("[data-chat]");
const chat = new ChatView(chatRoot, socket);
bindNoticeCount(socket);

function show(name, visible) {
  if (panels[name]) panels[name].hidden = !visible;
}

function nameOf(person) {
  if (!person || typeof person !== "object") return null;
  return person.display_name || person.name || person.username || null;
}

// frames carry ids only; the consult's API view carries the lawyer's name
async function lawyerName(consult) {
  if (consult.lawyer_name) return consult.lawyer_name;
  if (nameOf(consult.lawyer)) return nameOf(consult.lawyer);
  if (!consult.lawyer) return null;
  try {
    return (await api(`/consults/${consultId}`)).lawyer_name;
  } catch (_) {
    return null;
  }
}

function applyState(state) {
  if (!state) return;
  root.dataset.state = state;
  const badge = root.querySelector("[data-state-badge]");
  badge.textContent = stateLabels[state] || state;
  badge.className = `badge ${state === "active" ? "ok" : state === "expired" || state === "canceled" ? "bad" : CLOSED_STATES.has(state) ? "plain" : ""}`;
  show("pay", state === "pending_payment");
  show("waiting", state === "queued" || state === "offered");
  show("expired", state === "expired");
  show("canceled", state === "canceled" || state === "refunded");
  const hasChat = Boolean(chat.conversation);
  show("chat", hasChat);
  chat.setClosed(CLOSED_STATES.has(state));
  const closeRow = root.querySelector("[data-close-row]");
  if (closeRow) closeRow.hidden = state !== "active";
  if (panels.rating) show("rating", state === "resolved" && (!panels.rated || panels.rated.hidden));
  show("publish", state === "resolved");
}

function applySearch(search) {
  if (!search) return;
  const current = SCOPES.indexOf(search.scope);
  for (const li of root.querySelectorAll("[data-scope-steps] li")) {
    const index = SCOPES.indexOf(li.dataset.scope);
    if (index === current) li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
    li.classList.toggle("done", index < current);
  }
  if (search.offered != null) root.querySelector("[data-offered]").textContent = String(search.offered);
}

function applyPayment(payment) {
  const badge = root.querySelector("[data-payment-badge]");
  if (badge && payment && payment.state) badge.textContent = paymentLabels[payment.state] || payment.state;
}

// Views of the consult (frames, API answers) are numbered when they are received or asked for:
// one that finishes its awaits after a newer view was shown is stale and must not move the
// page back (e.g. an API answer fetched on reconnect, still "offered", landing after the
// consult.matched frame).
let viewsIssued = 0;
let viewShown = 0;

// Frames come from different processes (the web's, a matching worker's), so they can also be
// received out of order. The state machine only moves forward, but for offered → queued, which
// keeps the search round (every offering pass starts a new one): a view behind the one shown,
// by state or by round, is stale (a pass's late "offered" after the asker cancelled).
const STATE_RANK = { pending_payment: 0, queued: 1, offered: 1, active: 2, resolved: 3, expired: 3, canceled: 3, refunded: 4 };
let shownOrder = [STATE_RANK[root.dataset.state] ?? 0, Number(root.dataset.searchRound || 0)];

function isBehindShown(consult, search) {
  const order = [STATE_RANK[consult.state] ?? 0, search && search.round != null ? Number(search.round) : -1];
  if (order[0] !== shownOrder[0]) return order[0] < shownOrder[0];
  return order[1] >= 0 && order[1] < shownOrder[1];
}

function noteShown(consult, search) {
  const rank = STATE_RANK[consult.state] ?? 0;
  const round = search && search.round != null ? Number(search.round) : rank === shownOrder[0] ? shownOrder[1] : 0;
  shownOrder = [rank, round];
}

async function applyConsult(consult, search, view = ++viewsIssued) {
  if (!consult || Number(consult.id) !== consultId) return;
  const nameEl = root.querySelector("[data-lawyer-name]");
  if (root.dataset.role === "asker" && consult.lawyer && !nameEl.textContent.trim()) {
    chat.setCounterpart(consult.lawyer);
    const report = root.querySelector("[data-report-lawyer]");
    if (report) {
      report.href = report.dataset.reportUrl + encodeURIComponent(String(Number(consult.lawyer.id ?? consult.lawyer)));
      report.hidden = false;
    }
    const name = await lawyerName(consult);
    if (name) {
      nameEl.textContent = name;
      const nameInChat = chatRoot.querySelector("[data-counterpart-name]");
      if (nameInChat) nameInChat.textContent = name;
    }
  }
  if (consult.lawyer) root.querySelector("[data-lawyer-line]").hidden = false;
  const conversation = consult.conversation && typeof consult.conversation === "object" ? consult.conversation.id : consult.conversation;
  if (conversation && chat.conversation !== Number(conversation)) {
    await chat.load(conversation);
  }
  const searchSeen = search || consult.search;
  if (view < viewShown || isBehindShown(consult, searchSeen)) return;
  viewShown = view;
  noteShown(consult, searchSeen);
  const wasWaiting = root.dataset.state === "queued" || root.dataset.state === "offered";
  applyState(consult.state);
  applySearch(searchSeen);
  applyPayment(consult.payment);
  // just matched: the asker's next step is to write (not on page load: no surprise keyboard)
  if (wasWaiting && consult.state === "active" && chat.input) chat.input.focus();
}

socket.on("consult.updated", (frame) => applyConsult(frame.consult, frame.search));
socket.on("consult.matched", (frame) => applyConsult(frame.consult, null));
socket.on("open", async () => {
  // after a reconnect, the consult may have moved on while frames were lost
  const view = ++viewsIssued;
  try {
    applyConsult(await api(`/consults/${consultId}`), null, view);
  } catch (_) { /* the socket's own re-sent frames still apply */ }
});

// --- close, or (asker) call off a request no lawyer has taken yet: the same API call ---------
for (const button of root.querySelectorAll("[data-close-consult], [data-cancel-consult]")) {
  const fallback = button.hasAttribute("data-cancel-consult") ? "canceled" : "resolved";
  button.addEventListener("click", async () => {
    if (!window.confirm(button.dataset.confirm)) return;
    button.disabled = true;
    const view = ++viewsIssued;
    try {
      const consult = await api(`/consults/${consultId}/close`, { method: "POST" });
      applyConsult(consult && consult.id ? consult : { id: consultId, state: fallback }, null, view);
    } catch (err) {
      window.alert(err.message);
    } finally {
      button.disabled = false;
    }
  });
}

// --- rating --------------------------------------------------------------------------------
const ratingForm = root.querySelector("[data-rating-form]");
if (ratingForm) {
  ratingForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = ratingForm.querySelector("[data-rating-error]");
    const data = new FormData(ratingForm);
    const score = Number(data.get("score"));
    error.hidden = true;
    if (!score) {
      error.textContent = ratingForm.dataset.labelNoScore;
      error.hidden = false;
      ratingForm.querySelector("input[name=score]").focus();
      return;
    }
    const button = ratingForm.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await api(`/consults/${consultId}/rating`, { method: "POST", body: { score, comment: String(data.get("comment") || "") } });
      show("rating", false);
      show("rated", true);
      panels.rated.focus();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
}

applyState(root.dataset.state);
socket.connect();
