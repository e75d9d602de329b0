// Small progressive enhancements shared by every page (no build step).
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit")) el.form.submit();
});
document.querySelectorAll(".lang-submit").forEach((b) => b.classList.add("js-hidden"));
