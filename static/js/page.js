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
// A page-loading POST form is sent once: a double click would pay, report or decide twice.
const RESEND_AFTER_MS = 10000;
// Forms a script handles have already prevented the default by the time this listener runs.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || event.defaultPrevented || form.method !== "post") return;
  if (form.dataset.sending) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "true";
  form.setAttribute("aria-busy", "true");
  // still here long after (the network failed and no page came): the form may be sent again
  setTimeout(() => releaseForm(form), RESEND_AFTER_MS);
});
function releaseForm(form) {
  delete form.dataset.sending;
  form.removeAttribute("aria-busy");
}
// Back to a page kept in the browser's memory: its forms may be sent again.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  document.querySelectorAll("form[data-sending]").forEach(releaseForm);
});
