// Lawline's one socket (ES module, no build step).
//
// - one WebSocket to /ws/ per page, reconnected with capped exponential backoff and jitter;
// - after every (re)connect it sends `resume` with the last seq it delivered per conversation;
// - messages are delivered to the page in seq order, exactly once: duplicates are dropped and
//   a gap (seq jumps past cursor + 1) is filled from GET /conversations/{id}/messages?after_seq=;
// - outgoing messages live in an outbox (sessionStorage, so a reload keeps them) until acked;
//   a retry re-sends with the same client_id, which the server answers with the original ack;
// - app-level ping keeps idle connections honest; lawyers' presence doubles as the heartbeat.

const API_ROOT = "/api/v1";
const CLOSE_UNAUTHENTICATED = 4401;
const ACK_TIMEOUT_MS = 10000;
const PING_EVERY_MS = 25000;
const PONG_GRACE_MS = 10000;
const GAP_GRACE_MS = 250;
const TYPING_THROTTLE_MS = 3000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15000;
const STABLE_AFTER_MS = 5000;
const PAGE_LIMIT = 200;
// failures a resend with the same client_id may get past; any other refusal of a message is final
const RETRYABLE_ERRORS = new Set(["timeout", "rate_limited", "message_not_stored", "server_error"]);

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || "error";
    this.fields = (body && body.fields) || null;
  }
}

export function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input && input.value) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

/** JSON call to /api/v1 with the session cookie and CSRF token. Throws ApiError on 4xx/5xx. */
export async function api(path, { method = "GET", body, params } = {}) {
  let url = path.startsWith("/") && !path.startsWith(API_ROOT) ? API_ROOT + path : path;
  if (params) url += "?" + new URLSearchParams(params).toString();
  const headers = { Accept: "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (method !== "GET" && method !== "HEAD") {
    headers["X-CSRFToken"] = csrfToken();
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body || {});
  }
  const response = await fetch(url, init);
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch (_) { data = null; }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** A list endpoint's items, whether it answers a bare list or a paginated {items: [...]}. */
export function itemsOf(data) {
  if (Array.isArray(data)) return data;
  if (data && Array.isArray(data.items)) return data.items;
  if (data && Array.isArray(data.messages)) return data.messages;
  return [];
}

function hasMore(data, items) {
  if (data && typeof data.has_more === "boolean") return data.has_more;
  return items.length >= PAGE_LIMIT;
}

function newClientId() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  const bytes = new Uint8Array(16);
  window.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function normaliseMessage(raw, conversation) {
  return {
    conversation: Number(raw.conversation ?? conversation),
    seq: Number(raw.seq),
    id: raw.id,
    sender: raw.sender && typeof raw.sender === "object" ? raw.sender.id : raw.sender ?? null,
    sender_name: raw.sender_name || (raw.sender && typeof raw.sender === "object" ? raw.sender.username : null),
    kind: raw.kind || (raw.sender == null ? "notice" : "text"),
    body: raw.body ?? "",
    sent_at: raw.sent_at || raw.created_at || new Date().toISOString(),
    client_id: raw.client_id || null,
    from_platform: raw.from_platform ?? raw.sender == null,
  };
}

export class LawlineSocket {
  constructor({ url, userId, storageKey } = {}) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.url = url || `${scheme}//${location.host}/ws/`;
    this.userId = userId != null ? Number(userId) : Number(document.body.dataset.userId || 0) || null;
    this.storageKey = storageKey || `lawline.outbox.${this.userId || "anon"}`;
    this.listeners = new Map();
    this.conversations = new Map(); // id -> {cursor, buffer: Map<seq, msg>, filling, gapTimer, readSent}
    this.outbox = new Map(); // client_id -> {client_id, conversation, body, status, error, created}
    this.ackTimers = new Map();
    this.typingSentAt = new Map();
    this.presence = null;
    this.heartbeatMs = 20000;
    this.heartbeatTimer = null;
    this.ws = null;
    this.state = "idle";
    this.attempt = 0;
    this.reconnectTimer = null;
    this.stableTimer = null;
    this.pingTimer = null;
    this.pongTimer = null;
    this.stopped = false;
    this.loadOutbox();
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => this.dropConnection());
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible") this.reconnectNow();
    });
  }

  // --- events --------------------------------------------------------------------------------
  on(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type).add(fn);
    return () => this.listeners.get(type).delete(fn);
  }

  emit(type, payload) {
    for (const key of [type, "*"]) {
      const set = this.listeners.get(key);
      if (!set) continue;
      for (const fn of [...set]) {
        try { fn(payload, type); } catch (err) { console.error(err); } // eslint-disable-line no-console
      }
    }
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit("state", state);
  }

  // --- connection ----------------------------------------------------------------------------
  connect() {
    this.stopped = false;
    if (this.ws && (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)) return this;
    clearTimeout(this.reconnectTimer);
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (_) {
      this.scheduleReconnect();
      return this;
    }
    this.ws = ws;
    ws.onopen = () => this.onOpen(ws);
    ws.onmessage = (event) => this.onRaw(event.data);
    ws.onclose = (event) => this.onClose(ws, event);
    ws.onerror = () => {}; // a close event follows; reconnect happens there
    return this;
  }

  close() {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    this.stopTimers();
    if (this.ws) this.ws.close(1000);
    this.setState("closed");
  }

  reconnectNow() {
    if (this.stopped || this.state === "unauthenticated" || this.state === "idle") return;
    if (this.ws && (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)) return;
    this.attempt = Math.min(this.attempt, 1);
    clearTimeout(this.reconnectTimer);
    this.connect();
  }

  /** The browser says the network is gone: stop trusting the socket now (show reconnecting,
   * keep new messages in the outbox) rather than at the next unanswered ping, up to 35 s on. */
  dropConnection() {
    const ws = this.ws;
    if (!ws) return;
    this.onClose(ws, { code: 4000 });
    ws.onopen = ws.onmessage = ws.onclose = null;
    try { ws.close(4000); } catch (_) { /* already closing */ }
  }

  onOpen(ws) {
    if (ws !== this.ws) return;
    // the backoff resets only once a connection has proved stable: a server that accepts and
    // drops at once (overloaded, 1013) is not hammered at the base delay
    clearTimeout(this.stableTimer);
    this.stableTimer = setTimeout(() => { this.attempt = 0; }, STABLE_AFTER_MS);
    this.setState("open");
    this.sendResume();
    if (this.presence) this.sendFrame({ type: "presence", status: this.presence });
    this.flushOutbox();
    this.startTimers();
    this.emit("open");
  }

  onClose(ws, event) {
    if (ws !== this.ws) return;
    this.ws = null;
    clearTimeout(this.stableTimer);
    this.stopTimers();
    if (event.code === CLOSE_UNAUTHENTICATED) {
      this.setState("unauthenticated");
      this.emit("unauthenticated");
      return;
    }
    if (this.stopped) return;
    this.scheduleReconnect();
  }

  scheduleReconnect() {
    this.setState("reconnecting");
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt += 1;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  startTimers() {
    this.stopTimers();
    this.pingTimer = setInterval(() => {
      if (!this.sendFrame({ type: "ping" })) return;
      clearTimeout(this.pongTimer);
      this.pongTimer = setTimeout(() => { if (this.ws) this.ws.close(4000); }, PONG_GRACE_MS);
    }, PING_EVERY_MS);
    if (this.presence) this.startHeartbeat();
  }

  stopTimers() {
    clearInterval(this.pingTimer);
    clearTimeout(this.pongTimer);
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  sendFrame(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  onRaw(data) {
    let frame;
    try { frame = JSON.parse(data); } catch (_) { return; }
    if (!frame || typeof frame.type !== "string") return;
    clearTimeout(this.pongTimer); // any frame proves the connection is alive
    switch (frame.type) {
      case "pong": return;
      case "message.new": this.onMessageNew(frame); break;
      case "message.ack": this.onAck(frame); break;
      case "error": this.onError(frame); break;
      default: break;
    }
    this.emit("frame", frame);
    this.emit(frame.type, frame);
  }

  // --- conversations, ordering, gap fill -----------------------------------------------------
  /** Follow a conversation whose messages up to `lastSeq` the page already shows. */
  track(conversation, lastSeq = 0) {
    const id = Number(conversation);
    const existing = this.conversations.get(id);
    if (existing) {
      if (lastSeq > existing.cursor) existing.cursor = lastSeq;
      return existing;
    }
    const state = { cursor: Number(lastSeq) || 0, buffer: new Map(), filling: false, gapTimer: null, readSent: 0 };
    this.conversations.set(id, state);
    if (this.state === "open") this.sendFrame({ type: "resume", cursors: { [id]: state.cursor } });
    return state;
  }

  cursor(conversation) {
    const state = this.conversations.get(Number(conversation));
    return state ? state.cursor : 0;
  }

  sendResume() {
    const cursors = {};
    for (const [id, state] of this.conversations) cursors[id] = state.cursor;
    this.sendFrame({ type: "resume", cursors });
  }

  onMessageNew(frame) {
    const id = Number(frame.conversation);
    if (!this.conversations.has(id)) {
      this.emit("message.untracked", normaliseMessage(frame, id));
      return;
    }
    const message = normaliseMessage(frame, id);
    if (message.sender === this.userId && !message.client_id) {
      // a server that does not send client_id yet: pair our own echo with the outbox entry
      // by its text so the page updates that bubble instead of adding a second one
      const entry = [...this.outbox.values()].find(
        (e) => e.conversation === id && e.status === "sending" && e.body === message.body,
      );
      if (entry) message.client_id = entry.client_id;
    }
    this.accept(id, message);
  }

  accept(id, message) {
    const state = this.conversations.get(id);
    if (!state || !(message.seq > state.cursor)) return; // already delivered
    if (!state.buffer.has(message.seq)) state.buffer.set(message.seq, message);
    this.drain(id);
    if (state.buffer.size && !state.filling && !state.gapTimer) {
      state.gapTimer = setTimeout(() => { state.gapTimer = null; this.fillGap(id); }, GAP_GRACE_MS);
    }
  }

  drain(id) {
    const state = this.conversations.get(id);
    while (state.buffer.has(state.cursor + 1)) {
      const next = state.buffer.get(state.cursor + 1);
      state.buffer.delete(state.cursor + 1);
      state.cursor += 1;
      const entry = next.client_id ? this.outbox.get(next.client_id) : null;
      if (entry) {
        // stored (seen in order before, or instead of, its ack): the outbox is done with it
        this.clearAckTimer(entry.client_id);
        entry.status = "delivered";
        entry.seq = next.seq;
        this.outbox.delete(entry.client_id);
        this.saveOutbox();
      }
      this.emit("message", next);
      if (entry) this.emit("outbox", entry);
    }
    for (const seq of state.buffer.keys()) if (seq <= state.cursor) state.buffer.delete(seq);
  }

  /** Fetch what is missing after the cursor, page by page, until the buffer drains. */
  async fillGap(id, attempt = 0) {
    const state = this.conversations.get(id);
    if (!state || state.filling || !state.buffer.size) return;
    state.filling = true;
    try {
      for (let page = 0; page < 50 && state.buffer.size; page += 1) {
        const data = await api(`/conversations/${id}/messages`, { params: { after_seq: state.cursor, limit: PAGE_LIMIT } });
        const items = itemsOf(data).map((m) => normaliseMessage(m, id));
        if (!items.length) break;
        for (const message of items) if (message.seq > state.cursor && !state.buffer.has(message.seq)) state.buffer.set(message.seq, message);
        this.drain(id);
        if (!hasMore(data, items)) break;
      }
      this.emit("gap.filled", { conversation: id, cursor: state.cursor });
    } catch (err) {
      this.emit("gap.failed", { conversation: id, error: err });
    } finally {
      state.filling = false;
    }
    if (state.buffer.size && attempt < 5) {
      setTimeout(() => this.fillGap(id, attempt + 1), 1000 * (attempt + 1));
    }
  }

  /** Load a conversation's history (for a chat the page did not render) and follow it. */
  async loadHistory(conversation) {
    const id = Number(conversation);
    const messages = [];
    let after = 0;
    for (let page = 0; page < 50; page += 1) {
      const data = await api(`/conversations/${id}/messages`, { params: { after_seq: after, limit: PAGE_LIMIT } });
      const items = itemsOf(data).map((m) => normaliseMessage(m, id));
      messages.push(...items);
      if (!items.length || !hasMore(data, items)) break;
      after = items[items.length - 1].seq;
    }
    this.track(id, messages.length ? messages[messages.length - 1].seq : 0);
    return messages;
  }

  // --- sending messages ----------------------------------------------------------------------
  sendMessage(conversation, body) {
    const entry = {
      client_id: newClientId(),
      conversation: Number(conversation),
      body,
      status: "sending",
      error: null,
      created: new Date().toISOString(),
    };
    this.outbox.set(entry.client_id, entry);
    this.saveOutbox();
    this.emit("outbox", entry);
    this.transmit(entry);
    return entry;
  }

  /** Send a failed message again, with the same client_id (the server never stores it twice). */
  retry(clientId) {
    const entry = this.outbox.get(clientId);
    if (!entry || entry.retryable === false) return null;
    entry.status = "sending";
    entry.error = null;
    this.saveOutbox();
    this.emit("outbox", entry);
    this.transmit(entry);
    return entry;
  }

  discard(clientId) {
    this.clearAckTimer(clientId);
    this.outbox.delete(clientId);
    this.saveOutbox();
  }

  pending(conversation) {
    const id = Number(conversation);
    return [...this.outbox.values()].filter((e) => e.conversation === id);
  }

  transmit(entry) {
    this.clearAckTimer(entry.client_id);
    this.sendFrame({ type: "message.send", conversation: entry.conversation, client_id: entry.client_id, body: entry.body });
    this.ackTimers.set(entry.client_id, setTimeout(() => {
      this.ackTimers.delete(entry.client_id);
      if (entry.status === "sending") this.fail(entry, "timeout", null);
    }, ACK_TIMEOUT_MS));
  }

  flushOutbox() {
    for (const entry of this.outbox.values()) {
      if (entry.status === "sending" || (entry.status === "failed" && entry.error === "timeout")) {
        entry.status = "sending";
        entry.error = null;
        this.emit("outbox", entry);
        this.transmit(entry);
      }
    }
  }

  fail(entry, code, message) {
    entry.status = "failed";
    entry.error = code;
    entry.errorMessage = message;
    entry.retryable = RETRYABLE_ERRORS.has(code);
    this.saveOutbox();
    this.emit("outbox", entry);
  }

  clearAckTimer(clientId) {
    clearTimeout(this.ackTimers.get(clientId));
    this.ackTimers.delete(clientId);
  }

  onAck(frame) {
    const entry = this.outbox.get(frame.client_id);
    this.clearAckTimer(frame.client_id);
    if (entry) {
      entry.status = "delivered";
      entry.seq = Number(frame.seq);
      entry.id = frame.id;
      this.outbox.delete(frame.client_id);
      this.saveOutbox();
      this.emit("outbox", entry);
    }
    const id = Number(frame.conversation);
    if (entry && this.conversations.has(id)) {
      this.accept(id, normaliseMessage({
        conversation: id, seq: frame.seq, id: frame.id, sender: this.userId, kind: "text",
        body: entry.body, sent_at: frame.sent_at, client_id: frame.client_id,
      }, id));
    }
  }

  onError(frame) {
    const entry = frame.ref != null ? this.outbox.get(String(frame.ref)) : null;
    if (entry) {
      this.clearAckTimer(entry.client_id);
      this.fail(entry, frame.code || "error", frame.message || null);
    }
  }

  loadOutbox() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(this.storageKey) || "[]");
      for (const entry of saved) {
        if (entry && entry.client_id && entry.status !== "delivered") this.outbox.set(entry.client_id, entry);
      }
    } catch (_) { /* storage unavailable or corrupt: start empty */ }
  }

  saveOutbox() {
    try {
      sessionStorage.setItem(this.storageKey, JSON.stringify([...this.outbox.values()]));
    } catch (_) { /* private mode: the outbox still works for this page */ }
  }

  // --- typing, read receipts, presence -------------------------------------------------------
  typing(conversation) {
    const id = Number(conversation);
    const now = Date.now();
    if (now - (this.typingSentAt.get(id) || 0) < TYPING_THROTTLE_MS) return;
    if (this.sendFrame({ type: "typing", conversation: id })) this.typingSentAt.set(id, now);
  }

  markRead(conversation, seq) {
    const state = this.conversations.get(Number(conversation));
    if (!state || !(seq > state.readSent)) return;
    if (this.sendFrame({ type: "read", conversation: Number(conversation), seq })) state.readSent = seq;
  }

  /** Lawyers: "online" or "away"; re-sent as the heartbeat and after every reconnect. */
  setPresence(status, heartbeatSeconds) {
    this.presence = status;
    if (heartbeatSeconds) this.heartbeatMs = heartbeatSeconds * 1000;
    this.sendFrame({ type: "presence", status });
    this.startHeartbeat();
  }

  /** Lawyers who may not be online (no longer verified): no more presence frames, not even
   * after a reconnect, until setPresence is called again. */
  stopPresence() {
    this.presence = null;
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  startHeartbeat() {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      if (this.presence) this.sendFrame({ type: "presence", status: this.presence });
    }, this.heartbeatMs);
  }
}

/** Mirror the socket's state into an element with data-state (e.g. the connection badge). */
export function bindConnectionBadge(socket, element) {
  if (!element) return;
  const labels = {};
  for (const child of element.querySelectorAll("[data-label]")) labels[child.dataset.label] = child;
  const show = (state) => {
    element.dataset.state = state;
    for (const [name, el] of Object.entries(labels)) el.hidden = name !== state;
  };
  show(socket.state === "idle" ? "connecting" : socket.state);
  socket.on("state", show);
}
