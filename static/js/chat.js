// One chat panel (templates/partials/chat.html) on top of the shared socket: ordered messages,
// per-message state (sending → delivered → read, or failed with a retry that keeps the
// client_id, or refused for good with the server's reason), typing indicator, read receipts.
import { bindConnectionBadge } from "./socket.js";
import { timeText } from "./format.js";

const TYPING_SHOW_MS = 5000;
// The last presence told of each user: a chat may learn who its counterpart is, or be opened
// at all, after the frame came (the server introduces the two people of a consult as it
// matches them, before consult.matched).
const peerStatus = new Map();
const remembering = new WeakSet();

/** Keep the presence frames of `socket` for chats opened later (pages call it at start). */
export function rememberPresence(socket) {
  if (remembering.has(socket)) return;
  remembering.add(socket);
  socket.on("presence", (frame) => {
    if (frame.user != null) peerStatus.set(Number(frame.user), frame.status);
  });
}
const NEAR_BOTTOM_PX = 120;

export class ChatView {
  constructor(root, socket, { onIncoming, isVisible } = {}) {
    this.root = root;
    this.socket = socket;
    this.me = socket.userId;
    this.log = root.querySelector("[data-log]");
    this.form = root.querySelector("[data-chat-form]");
    this.input = this.form ? this.form.querySelector("textarea") : null;
    this.typingEl = root.querySelector("[data-typing]");
    this.labels = root.dataset;
    this.otherRead = Number(root.dataset.otherReadSeq || 0);
    this.onIncoming = onIncoming || (() => {});
    this.isVisible = isVisible || (() => !root.hidden && !root.closest("[hidden]"));
    this.typingTimer = null;
    this.conversation = null;
    bindConnectionBadge(socket, root.querySelector("[data-connection]"));
    this.bindForm();
    socket.on("message", (m) => { if (m.conversation === this.conversation) this.receive(m); });
    socket.on("outbox", (e) => { if (e.conversation === this.conversation) this.renderPending(e); });
    socket.on("typing", (f) => this.onTyping(f));
    socket.on("read", (f) => this.onRead(f));
    rememberPresence(socket);
    socket.on("presence", (f) => this.onPresence(f));
    this.showKnownPresence();
    document.addEventListener("visibilitychange", () => this.markRead());
    window.addEventListener("focus", () => this.markRead());
    // a page opens its chat before its socket: what it shows is read once the socket is up
    socket.on("open", () => this.markRead());
    if (root.dataset.conversation) this.attach(Number(root.dataset.conversation), Number(root.dataset.lastSeq || 0));
  }

  /** Start following a conversation whose messages up to lastSeq are already in the log. */
  attach(conversation, lastSeq = 0) {
    this.conversation = Number(conversation);
    this.root.dataset.conversation = String(this.conversation);
    this.socket.track(this.conversation, lastSeq);
    for (const entry of this.socket.pending(this.conversation)) this.renderPending(entry);
    this.scrollToBottom();
    this.markRead();
  }

  /** Attach to a conversation the page did not render (e.g. right after a match). */
  async load(conversation) {
    this.conversation = Number(conversation);
    this.root.dataset.conversation = String(this.conversation);
    const messages = await this.socket.loadHistory(this.conversation);
    for (const m of messages) this.receive(m, { silent: true });
    for (const entry of this.socket.pending(this.conversation)) this.renderPending(entry);
    this.scrollToBottom();
    this.markRead();
  }

  setClosed(closed) {
    this.root.dataset.closed = closed ? "true" : "false";
    if (this.form) this.form.hidden = closed;
    const note = this.root.querySelector("[data-closed-note]");
    if (note) note.hidden = !closed;
  }

  // --- rendering -----------------------------------------------------------------------------
  lastSeq() {
    const items = this.log.querySelectorAll("li[data-seq]");
    return items.length ? Number(items[items.length - 1].dataset.seq) : 0;
  }

  buildItem({ body, sentAt, kind, mine, id }) {
    const li = document.createElement("li");
    li.className = `msg ${kind === "notice" ? "notice" : mine ? "mine" : "theirs"}`;
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    bubble.textContent = body;
    const meta = document.createElement("div");
    meta.className = "meta";
    const time = document.createElement("time");
    time.dateTime = sentAt;
    time.textContent = timeText(sentAt);
    meta.append(time);
    if (mine) {
      const status = document.createElement("span");
      status.dataset.statusLabel = "";
      meta.append(status);
    } else if (kind !== "notice" && id) {
      meta.append(this.reportLink(id));
    }
    li.append(bubble, meta);
    return li;
  }

  /** A link to report the other person's message, coming back to this page afterwards. */
  reportLink(messageId) {
    const link = document.createElement("a");
    link.className = "msg-report";
    const query = new URLSearchParams({ type: "message", id: String(messageId), next: location.pathname + location.search });
    link.href = `${this.root.dataset.reportUrl}?${query}`;
    link.title = this.root.dataset.labelReportTitle;
    link.textContent = this.root.dataset.labelReport;
    return link;
  }

  setStatus(li, status, errorMessage, retryable = true) {
    li.dataset.status = status;
    const label = li.querySelector("[data-status-label]");
    if (!label) return;
    label.className = status === "failed" ? "status-failed" : "";
    label.textContent = this.labels[`label${status[0].toUpperCase()}${status.slice(1)}`] || status;
    if (errorMessage) label.title = errorMessage;
    // a failure the server explained says why (sending too fast, a message too long); a retry
    // is offered only when a resend can succeed
    const refused = status === "failed" && errorMessage;
    let reason = li.querySelector("[data-failure-reason]");
    if (refused && !reason) {
      reason = document.createElement("span");
      reason.className = "status-failed";
      reason.dataset.failureReason = "";
      li.querySelector(".meta").append(reason);
    }
    if (reason) reason.textContent = refused ? errorMessage : "";
    let retry = li.querySelector(".retry");
    if (status === "failed" && retryable) {
      if (!retry) {
        retry = document.createElement("button");
        retry.type = "button";
        retry.className = "link-button retry";
        retry.textContent = this.labels.labelRetry;
        retry.addEventListener("click", () => this.socket.retry(li.dataset.clientId));
        li.querySelector(".meta").append(retry);
      }
    } else if (retry) {
      retry.remove();
    }
  }

  insertBySeq(li, seq) {
    for (const other of this.log.children) {
      if (other === li || other.classList.contains("day-sep")) continue;
      const otherSeq = other.dataset.seq ? Number(other.dataset.seq) : Infinity;
      if (otherSeq > seq) {
        this.log.insertBefore(li, other);
        return;
      }
    }
    this.log.append(li);
  }

  receive(m, { silent = false } = {}) {
    if (this.log.querySelector(`li[data-seq="${m.seq}"]`)) return;
    const mine = m.sender != null && Number(m.sender) === this.me;
    const follow = this.isNearBottom();
    let li = m.client_id ? this.log.querySelector(`li[data-client-id="${CSS.escape(m.client_id)}"]`) : null;
    if (li) {
      li.remove();
    } else {
      li = this.buildItem({ body: m.body, sentAt: m.sent_at, kind: m.kind, mine, id: m.id });
      if (m.client_id) li.dataset.clientId = m.client_id;
    }
    li.dataset.seq = String(m.seq);
    this.insertBySeq(li, m.seq);
    if (mine) this.setStatus(li, m.seq <= this.otherRead ? "read" : "delivered");
    if (!mine) {
      this.hideTyping();
      if (!silent) this.onIncoming(m);
    }
    if (follow || mine) this.scrollToBottom();
    this.markRead();
  }

  renderPending(entry) {
    let li = this.log.querySelector(`li[data-client-id="${CSS.escape(entry.client_id)}"]`);
    if (entry.status === "delivered") {
      // the ack's message event finalises the bubble; when that seq was already shown
      // (a resend after reload), the pending copy is redundant
      if (li && !li.dataset.seq && this.log.querySelector(`li[data-seq="${entry.seq}"]`)) li.remove();
      return;
    }
    if (!li) {
      li = this.buildItem({ body: entry.body, sentAt: entry.created, kind: "text", mine: true });
      li.dataset.clientId = entry.client_id;
      this.log.append(li);
      this.scrollToBottom();
    }
    if (!li.dataset.seq) this.setStatus(li, entry.status, entry.errorMessage, entry.retryable !== false);
  }

  // --- typing and read receipts --------------------------------------------------------------
  onTyping(frame) {
    if (Number(frame.conversation) !== this.conversation) return;
    const who = frame.user ?? frame.sender;
    if (who != null && Number(who) === this.me) return;
    const name = this.root.querySelector("[data-counterpart-name]");
    this.typingEl.textContent = `${name ? name.textContent : ""} ${this.labels.labelTyping}`.trim();
    clearTimeout(this.typingTimer);
    this.typingTimer = setTimeout(() => this.hideTyping(), TYPING_SHOW_MS);
  }

  onPresence(frame) {
    if (frame.user != null && Number(frame.user) === Number(this.root.dataset.counterpart || 0)) {
      this.showPresence(frame.status);
    }
  }

  /** Who the other person is, once the page learns it (e.g. right after a match). */
  setCounterpart(userId) {
    this.root.dataset.counterpart = String(userId || "");
    this.showKnownPresence();
  }

  showKnownPresence() {
    const counterpart = Number(this.root.dataset.counterpart || 0);
    if (peerStatus.has(counterpart)) this.showPresence(peerStatus.get(counterpart));
  }

  showPresence(presence) {
    const online = presence === "online";
    const dot = this.root.querySelector("[data-peer-presence]");
    if (dot) dot.classList.toggle("on", online);
    const status = this.root.querySelector("[data-peer-status]");
    if (status) status.textContent = online ? status.dataset.labelOnline : status.dataset.labelOffline;
  }

  hideTyping() {
    clearTimeout(this.typingTimer);
    if (this.typingEl) this.typingEl.textContent = "";
  }

  onRead(frame) {
    if (Number(frame.conversation) !== this.conversation) return;
    const who = frame.user ?? frame.reader;
    if (who != null && Number(who) === this.me) return;
    const seq = Number(frame.seq || 0);
    if (seq <= this.otherRead) return;
    this.otherRead = seq;
    for (const li of this.log.querySelectorAll("li.mine[data-seq]")) {
      if (Number(li.dataset.seq) <= seq && li.dataset.status !== "read") this.setStatus(li, "read");
    }
  }

  markRead() {
    if (!this.conversation || document.visibilityState !== "visible" || !this.isVisible()) return;
    const last = this.lastSeq();
    if (last) this.socket.markRead(this.conversation, last);
  }

  // --- input ---------------------------------------------------------------------------------
  bindForm() {
    if (!this.form) return;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
        event.preventDefault();
        this.submit();
      }
    });
    this.input.addEventListener("input", () => {
      this.autosize();
      if (this.conversation && this.input.value.trim()) this.socket.typing(this.conversation);
    });
  }

  submit() {
    const body = this.input.value.trim();
    if (!body || !this.conversation) return;
    this.socket.sendMessage(this.conversation, body);
    this.input.value = "";
    this.autosize();
    this.input.focus();
  }

  autosize() {
    this.input.style.height = "auto";
    this.input.style.height = `${Math.min(this.input.scrollHeight + 2, 144)}px`;
  }

  isNearBottom() {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    this.log.scrollTop = this.log.scrollHeight;
  }
}
