// Stripe's card step (Payment Element). The browser never tells the server "paid": after
// Stripe confirms, the page asks the server to check with Stripe (POST .../sync), and the
// payment moves on Stripe's answer or its signed webhook.
(() => {
  const root = document.getElementById("payment");
  const form = document.getElementById("stripe-form");
  if (!root || !form || typeof window.Stripe !== "function") return;
  const paymentId = root.dataset.paymentId;
  const stripe = window.Stripe(root.dataset.publishableKey);
  const elements = stripe.elements({ clientSecret: root.dataset.clientSecret });
  elements.create("payment").mount("#payment-element");
  const errorBox = document.getElementById("stripe-error");
  const button = document.getElementById("stripe-submit");

  async function syncWithServer() {
    const response = await fetch(`/api/v1/payments/${paymentId}/sync`, {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": root.dataset.csrf, "Content-Type": "application/json" },
      body: "{}",
    });
    return response.ok ? response.json() : null;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    errorBox.hidden = true;
    const { error } = await stripe.confirmPayment({
      elements,
      confirmParams: { return_url: window.location.href },
      redirect: "if_required",
    });
    if (error) {
      errorBox.textContent = error.message || "";
      errorBox.hidden = false;
      button.disabled = false;
      return;
    }
    await syncWithServer();
    window.location.assign(root.dataset.returnUrl || window.location.href);
  });
})();
