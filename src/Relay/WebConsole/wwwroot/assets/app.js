// The console's shell: one URL per page under the console's base, navigation by real links and the history API, so
// reload, deep links and the back button work. Pages render into <main>.
import { api, setCsrfToken, ApiError } from "./api.js";
import { el } from "./dom.js";
import { t, lang, setLang, languages } from "./i18n.js";
import { renderSignIn } from "./signin.js";
import { renderKeys } from "./keys.js";
import { renderUsage } from "./usage.js";
import { renderMe } from "./me.js";

// The operator's pages, and the one page a key holder's session may open.
const operatorPages = { keys: renderKeys, usage: renderUsage };
const keyHolderPages = { me: renderMe };
const base = new URL(document.baseURI).pathname;
let signedIn = false;
let pages = operatorPages;
let defaultPage = "keys";
// The page asked for before sign-in, opened once signed in.
let returnTo = null;

// The page's path below the console, in segments: keys → ["keys"], usage/42 → ["usage", "42"].
function segments() {
  const rest = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : "";
  return rest.split("/").filter(Boolean).map(decodeURIComponent);
}

function pageName() {
  return segments()[0] ?? "";
}

export function navigate(page, replace = false) {
  const url = new URL(page, document.baseURI);
  if (replace) history.replaceState(null, "", url); else history.pushState(null, "", url);
  render();
}

function header() {
  const current = pageName();
  const switcher = el("select", { id: "language", "aria-label": t("language"), onchange: event => { setLang(event.target.value); render(); } },
    languages.map(([code, name]) => el("option", { value: code, selected: code === lang() }, name)));
  const nav = signedIn
    ? el("nav", {}, Object.keys(pages).map(name =>
      el("a", { href: name, "data-link": true, "aria-current": current === name ? "page" : null }, t(`nav.${name}`))))
    : el("nav");
  const signOut = signedIn ? el("button", { id: "sign-out", onclick: signOutClicked }, t("signout")) : null;
  return [el("span", { class: "brand" }, t("brand")), nav, switcher, signOut];
}

async function signOutClicked() {
  try { await api("DELETE", "session"); } catch { /* the session is gone either way */ }
  signedIn = false;
  setCsrfToken(null);
  startSession(null);
  navigate("signin");
}

// The pages a session may open follow its kind; the server refuses a key holder's session everything else anyway.
function startSession(session) {
  const keyHolder = session?.kind === "keyHolder";
  pages = keyHolder ? keyHolderPages : operatorPages;
  defaultPage = keyHolder ? "me" : "keys";
  if (session) setCsrfToken(session.csrfToken);
}

export async function signedInWith(session) {
  startSession(session);
  signedIn = true;
  const target = returnTo && pages[returnTo.split(/[/?]/)[0]] ? returnTo : defaultPage;
  returnTo = null;
  navigate(target, true);
}

// A page's API call answered 401: the session expired or was ended elsewhere.
export function sessionLost() {
  signedIn = false;
  navigate("signin", true);
}

async function render() {
  document.title = t("brand");
  let page = pageName();
  if (!signedIn && page !== "signin") {
    if (operatorPages[page] || keyHolderPages[page]) returnTo = location.pathname.slice(base.length) + location.search;
    history.replaceState(null, "", new URL("signin", document.baseURI));
    page = "signin";
  }
  if (signedIn && (page === "signin" || !pages[page])) { history.replaceState(null, "", new URL(defaultPage, document.baseURI)); page = defaultPage; }
  document.getElementById("top").replaceChildren(...header().filter(Boolean));
  const main = document.getElementById("main");
  try {
    await (page === "signin" ? renderSignIn(main) : pages[page](main, segments().slice(1)));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) { sessionLost(); return; }
    main.replaceChildren(el("p", { class: "error" }, error.message));
  }
}

document.addEventListener("click", event => {
  const link = event.target.closest("a[data-link]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
  event.preventDefault();
  navigate(link.getAttribute("href"));
});
window.addEventListener("popstate", render);

try {
  startSession(await api("GET", "session"));
  signedIn = true;
} catch {
  signedIn = false;
}
render();
