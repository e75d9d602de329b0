// Small progressive enhancements shared by every page (no build step).
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit")) el.form.submit();
});
document.querySelectorAll(".lang-submit").forEach((b) => b.classList.add("js-hidden"));
// A form sent back with errors: start where the first one is, not at the top of the page.
const firstError = document.querySelector(".field.has-error input, .field.has-error select, .field.has-error textarea");
if (firstError && !document.querySelector("[autofocus]")) firstError.focus();
// A form whose action cannot be undone asks first (data-confirm holds the question).
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});
