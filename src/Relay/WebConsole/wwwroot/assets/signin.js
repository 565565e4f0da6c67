// Sign-in with the admin key (the operator) or a Relay API key (that key's holder): the answer sets the session cookie
// and gives the CSRF token and the session's kind.
import { api, ApiError } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { signedInWith } from "./app.js";

export function renderSignIn(main) {
  const key = el("input", { id: "admin-key", type: "password", autocomplete: "current-password", required: true });
  const message = el("p", { id: "signin-error", class: "error", role: "alert" });
  const form = el("form", {
    onsubmit: async event => {
      event.preventDefault();
      message.textContent = "";
      try {
        signedInWith(await api("POST", "session", { key: key.value }));
      } catch (error) {
        message.textContent = error instanceof ApiError && error.status === 429 ? t("signin.limited") : t("signin.wrong");
      }
    },
  }, el("label", {}, t("signin.adminKey"), key), el("button", { class: "primary", type: "submit" }, t("signin.submit")), message);
  main.replaceChildren(el("section", { class: "signin" }, el("h1", {}, t("signin.title")), form, el("p", { class: "muted" }, t("signin.hint"))));
}
