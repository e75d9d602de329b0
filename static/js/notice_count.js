// The header's unread-notices badge, kept live on pages that have a socket: a platform notice
// arrives as `message.new` with from_platform true in the user's platform inbox, which no page
// tracks as a chat (so the socket hands it over as `message.untracked`).
export function bindNoticeCount(socket, root = document) {
  const badge = root.querySelector("[data-notice-count]");
  const value = badge && badge.querySelector("[data-notice-count-value]");
  if (!value) return;
  const seen = new Set(); // a resumed socket may deliver the same notice again
  const bump = (message) => {
    if (!message.from_platform || seen.has(message.id)) return;
    seen.add(message.id);
    value.textContent = String((Number(value.textContent) || 0) + 1);
    badge.hidden = false;
  };
  socket.on("message.untracked", bump);
}
