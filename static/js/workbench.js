// The lawyer workbench: availability (presence frames, re-sent as the heartbeat), the live
// queue of offers with expiry countdowns and accept/decline, several chats side by side with
// unread counts.
import { LawlineSocket, api, bindConnectionBadge } from "./socket.js";
import { ChatView, rememberPresence } from "./chat.js";
import { clockText, moneyText } from "./format.js";
import { bindNoticeCount } from "./notice_count.js";

const MAX_VISIBLE_CHATS = 2;
const URGENT_SECONDS = 15;
const PRESENCE_KEY = "lawline.presence";

const root = document.getElementById("workbench");
const labels = root.dataset;
// the server's clock minus ours, taken when its page arrived, not when this script ran (later by
// the page's load: countdowns of fresh 60 s offers started at 1:01)
const navigation = performance.getEntriesByType("navigation")[0];
const pageArrivedAt = navigation ? performance.timeOrigin + navigation.responseStart : Date.now();
const skewMs = new Date(root.dataset.serverNow).getTime() - pageArrivedAt;
const heartbeatSeconds = Number(root.dataset.heartbeat || 20);
const offersList = root.querySelector("[data-offers]");
const offersEmpty = root.querySelector("[data-offers-empty]");
const offerCount = root.querySelector("[data-offer-count]");
const tabs = root.querySelector("[data-chat-tabs]");
const chatsBox = root.querySelector("[data-chats]");
const chatsEmpty = root.querySelector("[data-chats-empty]");
const socket = new LawlineSocket();
rememberPresence(socket); // a chat opened by a match learns its asker's presence
bindNoticeCount(socket);
const chats = new Map(); // conversation id -> {view, slot, tab}

bindConnectionBadge(socket, root.querySelector(":scope > .card [data-connection]"));

// --- presence --------------------------------------------------------------------------------
// Only a verified lawyer may be online: the server answers anyone else's presence frames (the
// heartbeat included) with `lawyer_not_verified`. The page starts as the server rendered it
// (data-verified); when staff revoke the approval while it is open, the next heartbeat's answer
// stops the heartbeats and locks the toggle, and a `lawyer_verified` notice (staff approved the
// lawyer again) unlocks it without a reload.
const toggle = root.querySelector("[data-presence-toggle]");
const offlineLabel = toggle.querySelector("[data-presence-offline]");
const unverifiedBanner = root.querySelector("[data-unverified-banner]");
const verifiedBanner = root.querySelector("[data-verified-banner]");
let verified = root.dataset.verified !== "false";

function showPresenceHelp(key) {
  for (const help of root.querySelectorAll("[data-presence-help]")) help.hidden = help.dataset.presenceHelp !== key;
}

function setPresence(status, { send = true } = {}) {
  if (!verified) return;
  for (const button of toggle.querySelectorAll("button")) {
    button.setAttribute("aria-pressed", String(button.dataset.status === status));
  }
  showPresenceHelp(status);
  try { localStorage.setItem(PRESENCE_KEY, status); } catch (_) { /* not remembered */ }
  if (send) socket.setPresence(status, heartbeatSeconds);
}

function rememberedPresence() {
  let remembered = "away";
  try { remembered = localStorage.getItem(PRESENCE_KEY) || "away"; } catch (_) { /* default */ }
  return remembered === "online" ? "online" : "away";
}

// what the page says while the lawyer is (not) verified, besides the toggle
function showVerified(value) {
  for (const el of root.querySelectorAll("[data-while-verified]")) el.hidden = !value;
  for (const el of root.querySelectorAll("[data-while-unverified]")) el.hidden = value;
}

function lockPresence() {
  for (const button of toggle.querySelectorAll("button")) {
    button.disabled = true;
    button.setAttribute("aria-pressed", "false");
  }
  offlineLabel.hidden = false;
  showPresenceHelp("unverified");
  showVerified(false);
}

// the server says the lawyer is not verified: a heartbeat's answer, or an accept's
function verificationLost() {
  if (!verified) return;
  verified = false;
  socket.stopPresence();
  lockPresence();
  verifiedBanner.hidden = true;
  // a prompt the server rendered for an unverified profile already says why
  if (!root.querySelector("[data-profile-prompt]:not([hidden])")) unverifiedBanner.hidden = false;
}

function verificationRegained() {
  if (verified) return;
  verified = true;
  for (const button of toggle.querySelectorAll("button")) button.disabled = false;
  offlineLabel.hidden = true;
  showVerified(true);
  unverifiedBanner.hidden = true;
  for (const prompt of root.querySelectorAll("[data-profile-prompt]")) prompt.hidden = true;
  verifiedBanner.hidden = false;
  setPresence(rememberedPresence()); // the lawyer's own last choice, as on a reload
}

toggle.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-status]");
  if (button && !button.disabled) setPresence(button.dataset.status);
});
socket.on("error", (frame) => {
  if (frame.code === "lawyer_not_verified") verificationLost();
});
// staff decisions reach the lawyer as notices in their platform inbox
socket.on("message.new", (frame) => {
  const kind = frame.from_platform && frame.notice ? frame.notice.kind : null;
  if (kind === "lawyer_verified") {
    verificationRegained();
  } else if (kind === "lawyer_rejected" && verified && socket.presence) {
    // ask the server now rather than at the next heartbeat, up to 20 s on: it answers
    // lawyer_not_verified when this rejection revoked the lawyer's approval
    socket.setPresence(socket.presence, heartbeatSeconds);
  }
});
if (verified) setPresence(rememberedPresence());
else lockPresence();

// --- offers ----------------------------------------------------------------------------------
function updateOfferCount() {
  const n = offersList.querySelectorAll("li.offer:not(.leaving)").length;
  offerCount.textContent = String(n);
  offersEmpty.hidden = n > 0;
}

function fillPrice(li) {
  const price = li.querySelector("[data-price]");
  if (price && price.dataset.paid === "false") {
    price.textContent = labels.labelFree;
  } else if (price && price.dataset.price !== undefined && price.dataset.price !== "") {
    price.textContent = moneyText(price.dataset.price, price.dataset.currency || "CNY");
  }
}

// offer ids this page saw end (revoked, accepted, declined, expired): the matching worker's
// offer.new and the web's offer.revoked come from different processes and can cross, and a
// late offer.new must not bring back an offer that is gone
const goneOffers = new Set();

function removeOffer(li, note) {
  if (!li || li.classList.contains("leaving")) return;
  goneOffers.add(li.dataset.offerId);
  li.classList.add("leaving");
  for (const b of li.querySelectorAll("button")) b.disabled = true;
  if (note) {
    const p = li.querySelector("[data-offer-note]");
    p.textContent = note;
    p.hidden = false;
    setTimeout(() => { li.remove(); updateOfferCount(); }, 2500);
  } else {
    li.remove();
  }
  updateOfferCount();
}

function addOffer(offer) {
  if (!offer || goneOffers.has(String(offer.id)) || offersList.querySelector(`[data-offer-id="${offer.id}"]`)) return;
  const li = document.getElementById("offer-template").content.firstElementChild.cloneNode(true);
  const summary = offer.summary || {};
  li.dataset.offerId = String(offer.id);
  li.dataset.expiresAt = offer.expires_at;
  li.querySelector("[data-title]").textContent = summary.title || "";
  li.querySelector("[data-category]").textContent = summary.category_name || summary.category || "";
  li.querySelector("[data-city]").textContent = summary.city_name || summary.city || "";
  const price = li.querySelector("[data-price]");
  price.dataset.price = summary.price ?? "";
  price.dataset.currency = summary.currency || "CNY";
  price.dataset.paid = String(summary.paid !== false);
  fillPrice(li);
  offersList.prepend(li);
  tick();
  updateOfferCount();
}

function tick() {
  const now = Date.now() + skewMs;
  for (const li of offersList.querySelectorAll("li.offer:not(.leaving)")) {
    const left = (new Date(li.dataset.expiresAt).getTime() - now) / 1000;
    if (left <= 0) {
      removeOffer(li, labels.labelExpired);
      continue;
    }
    li.querySelector("[data-countdown]").textContent = clockText(left);
    li.classList.toggle("urgent", left <= URGENT_SECONDS);
  }
}

offersList.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-accept], button[data-decline]");
  if (!button) return;
  const li = button.closest("li.offer");
  const id = li.dataset.offerId;
  const accepting = button.hasAttribute("data-accept");
  for (const b of li.querySelectorAll("button")) b.disabled = true;
  try {
    const result = await api(`/offers/${id}/${accepting ? "accept" : "decline"}`, { method: "POST" });
    removeOffer(li);
    if (accepting) openFromConsult(result && (result.consult || result));
  } catch (err) {
    if (err.code === "lawyer_not_verified") verificationLost();
    removeOffer(li, err.code === "offer_taken" ? labels.labelTaken : err.message);
  }
});

socket.on("offer.new", (frame) => addOffer(frame.offer));
// why an offer left the queue; the lawyer's own decline (from any tab) needs no note
const REVOKED_NOTES = { taken: labels.labelTaken, expired: labels.labelExpired, declined: "" };
socket.on("offer.revoked", (frame) => {
  const id = frame.offer && typeof frame.offer === "object" ? frame.offer.id : frame.offer;
  goneOffers.add(String(id));
  const note = REVOKED_NOTES[frame.reason] ?? labels.labelRevoked;
  removeOffer(offersList.querySelector(`[data-offer-id="${id}"]`), note);
});

// --- chats -----------------------------------------------------------------------------------
function visibleCount() {
  return [...chats.values()].filter((c) => !c.slot.hidden).length;
}

function setUnread(entry, n) {
  const badge = entry.tab.querySelector("[data-unread]");
  entry.unread = n;
  badge.textContent = String(n);
  badge.hidden = n === 0;
}

function showChat(entry, visible) {
  entry.slot.hidden = !visible;
  entry.tab.setAttribute("aria-pressed", String(visible));
  if (visible) {
    setUnread(entry, 0);
    entry.view.markRead();
  }
}

function registerChat(slot, tabButton) {
  const conversation = Number(slot.dataset.chatSlot);
  const entry = { slot, tab: tabButton, unread: 0, view: null };
  entry.unread = Number(tabButton.querySelector("[data-unread]").textContent || 0);
  entry.view = new ChatView(slot.querySelector("[data-chat]"), socket, {
    isVisible: () => !slot.hidden,
    onIncoming: () => {
      if (slot.hidden || document.visibilityState !== "visible") setUnread(entry, entry.unread + 1);
    },
  });
  chats.set(conversation, entry);
  if (!slot.hidden && document.visibilityState === "visible") setUnread(entry, 0); // read on sight
  return entry;
}

tabs.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-tab]");
  if (!button) return;
  const entry = chats.get(Number(button.dataset.tab));
  const show = entry.slot.hidden;
  if (show && visibleCount() >= MAX_VISIBLE_CHATS) {
    // make room: hide the chat shown longest ago
    const oldest = [...chats.values()].find((c) => !c.slot.hidden);
    if (oldest) showChat(oldest, false);
  }
  showChat(entry, show);
  if (show) entry.slot.querySelector("textarea")?.focus();
});

document.addEventListener("visibilitychange", () => {
  if (document.visibilityState !== "visible") return;
  for (const entry of chats.values()) if (!entry.slot.hidden) setUnread(entry, 0);
});

for (const slot of chatsBox.querySelectorAll("[data-chat-slot]")) {
  const tab = tabs.querySelector(`button[data-tab="${slot.dataset.chatSlot}"]`);
  registerChat(slot, tab);
}

function nameOf(person) {
  if (!person || typeof person !== "object") return "";
  return person.display_name || person.name || person.username || "";
}

// the asker's name, from the conversation list (frames and consults carry ids only)
async function askerName(conversation) {
  try {
    const list = await api("/conversations", { params: { limit: 50 } });
    const found = (list || []).find((c) => Number(c.id) === Number(conversation));
    return found && found.other ? found.other.name : "";
  } catch (_) {
    return "";
  }
}

const opening = new Set();

async function openFromConsult(consult) {
  if (!consult || !consult.conversation) return;
  const conversationId = Number(typeof consult.conversation === "object" ? consult.conversation.id : consult.conversation);
  if (opening.has(conversationId)) return;
  if (chats.has(conversationId)) {
    showChat(chats.get(conversationId), true);
    return;
  }
  opening.add(conversationId);
  try {
    await openChat(consult);
  } finally {
    opening.delete(conversationId);
  }
}

async function openChat(consult) {
  if (!consult.question) {
    try { consult = await api(`/consults/${consult.id}`); } catch (_) { /* open it untitled */ }
  }
  const conversation = Number(typeof consult.conversation === "object" ? consult.conversation.id : consult.conversation);
  if (chats.has(conversation)) {
    showChat(chats.get(conversation), true);
    return;
  }
  const fragment = document.getElementById("chat-template").content.cloneNode(true);
  const slot = fragment.firstElementChild;
  const domId = `chat-${conversation}`;
  const linked = ["id", "for", "aria-labelledby", "aria-controls", "aria-describedby"];
  for (const el of slot.querySelectorAll(linked.map((a) => `[${a}]`).join(", "))) {
    for (const attr of linked) {
      const value = el.getAttribute(attr);
      if (value && value.includes("chat-new")) el.setAttribute(attr, value.replace("chat-new", domId));
    }
  }
  slot.dataset.chatSlot = String(conversation);
  slot.dataset.consult = String(consult.id);
  const chatRoot = slot.querySelector("[data-chat]");
  chatRoot.dataset.consult = String(consult.id);
  chatRoot.querySelector("h2").textContent = (consult.question && consult.question.title) || consult.title || "";
  const name = nameOf(consult.asker) || await askerName(conversation);
  chatRoot.querySelector("[data-counterpart-name]").textContent = name;
  chatRoot.dataset.counterpart = String(consult.asker && typeof consult.asker === "object" ? consult.asker.id : consult.asker || "");
  slot.querySelector("[data-full-page]").href = `/consults/${consult.id}/`;
  const li = document.createElement("li");
  const tab = document.createElement("button");
  tab.type = "button";
  tab.dataset.tab = String(conversation);
  tab.setAttribute("aria-controls", domId);
  tab.append(document.createTextNode(`${name || `#${consult.id}`} `));
  const badge = document.createElement("span");
  badge.className = "unread";
  badge.dataset.unread = "";
  badge.hidden = true;
  badge.textContent = "0";
  tab.append(badge);
  li.append(tab);
  tabs.prepend(li);
  chatsBox.prepend(slot);
  chatsEmpty.hidden = true;
  const entry = registerChat(slot, tab);
  slot.hidden = true;
  if (visibleCount() >= MAX_VISIBLE_CHATS) {
    const last = [...chats.values()].reverse().find((c) => !c.slot.hidden && c !== entry);
    if (last) showChat(last, false);
  }
  showChat(entry, true);
  await entry.view.load(conversation);
  updateOpenCount();
  slot.querySelector("textarea")?.focus();
}

function closeChat(consultId) {
  for (const [conversation, entry] of chats) {
    if (entry.slot.dataset.consult === String(consultId)) {
      entry.view.setClosed(true);
      chats.delete(conversation);
      setTimeout(() => {
        entry.slot.remove();
        entry.tab.closest("li").remove();
        chatsEmpty.hidden = chats.size > 0;
        updateOpenCount();
      }, 4000);
    }
  }
}

function updateOpenCount() {
  const el = root.querySelector("[data-open-count]");
  if (el) el.textContent = String(chats.size);
  // matching offers nothing to a lawyer whose every slot is taken: say so, or they wait
  const full = root.querySelector("[data-capacity-full]");
  if (full) full.hidden = chats.size < Number(full.dataset.capacity);
}

socket.on("consult.matched", (frame) => {
  const consult = frame.consult || {};
  const lawyer = consult.lawyer && typeof consult.lawyer === "object" ? consult.lawyer.id : consult.lawyer;
  if (Number(lawyer) === socket.userId) openFromConsult(consult);
});
socket.on("consult.updated", (frame) => {
  const consult = frame.consult || {};
  if (["resolved", "expired", "canceled", "refunded"].includes(consult.state)) closeChat(consult.id);
});
socket.on("message.untracked", async (message) => {
  if (message.from_platform) return; // a notice: only the header's count cares
  // a chat opened elsewhere (another tab accepted it): pull it in
  try {
    const list = await api("/conversations", { params: { limit: 50 } });
    const found = (list || []).find((c) => Number(c.id) === message.conversation);
    if (found && found.consult) {
      const consult = await api(`/consults/${found.consult}`);
      if (consult.state === "active") openFromConsult(consult);
    }
  } catch (_) { /* it shows on the next page load */ }
});

for (const li of offersList.querySelectorAll("li.offer")) fillPrice(li);
tick();
setInterval(tick, 1000);
updateOfferCount();
socket.connect();
