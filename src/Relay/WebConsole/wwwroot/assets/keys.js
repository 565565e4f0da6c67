// Users and keys: list, create (the key shown once with client settings), disable, enable, revoke, top up.
import { api, gatewayUrl } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";

const usd = value => value === null || value === undefined ? "—" : `$${Number(value).toFixed(2)}`;

function limitsOf(key) {
  const parts = [];
  if (key.rpm) parts.push(`${key.rpm} rpm`);
  if (key.tpm) parts.push(`${key.tpm} tpm`);
  if (key.concurrency) parts.push(`${key.concurrency} ∥`);
  if (key.budget !== null && key.budget !== undefined) parts.push(`${usd(key.budget)}/${key.budgetPeriod}`);
  if (key.models) parts.push(key.models.join(", "));
  return parts.length ? parts.join(" · ") : t("keys.noLimits");
}

function copyButton(text) {
  const button = el("button", { type: "button", class: "copy", onclick: async () => {
    await navigator.clipboard.writeText(text);
    button.textContent = t("keys.copied");
  } }, t("keys.copy"));
  return button;
}

function createdPanel(created, onDone) {
  const claudeCode = JSON.stringify({ env: { ANTHROPIC_BASE_URL: gatewayUrl(), ANTHROPIC_AUTH_TOKEN: created.key } }, null, 2);
  const desktop = [
    `inferenceGatewayBaseUrl: ${gatewayUrl()}`,
    `inferenceGatewayApiKey: ${created.key}`,
    "inferenceGatewayAuthScheme: bearer",
  ].join("\n");
  return el("section", { class: "notice", id: "created-key" },
    el("p", {}, t("keys.created", { name: created.name })),
    el("div", { class: "actions" }, el("code", { id: "new-key" }, created.key), copyButton(created.key)),
    el("h2", {}, t("keys.claudeCode")), el("pre", { id: "claude-code-settings" }, claudeCode), copyButton(claudeCode),
    el("h2", {}, t("keys.claudeDesktop")), el("pre", { id: "claude-desktop-values" }, desktop), copyButton(desktop),
    el("p", {}, el("button", { type: "button", onclick: onDone }, t("keys.dismiss"))));
}

export async function renderKeys(main) {
  const [keys, users] = await Promise.all([api("GET", "keys"), api("GET", "users")]);
  const refresh = () => renderKeys(main);
  const act = async (method, path, body) => { await api(method, path, body); await refresh(); };
  const errorLine = el("p", { class: "error", role: "alert" });
  const guarded = action => async event => {
    event.preventDefault();
    try { await action(event); } catch (error) { errorLine.textContent = error.message; }
  };

  const keyRows = keys.data.map(key => el("tr", { "data-key": key.name },
    el("td", {}, key.name), el("td", {}, el("code", {}, key.prefix)),
    el("td", { class: `status-${key.status}` }, t(`status.${key.status}`)),
    el("td", {}, key.user ?? "—"), el("td", {}, limitsOf(key)), el("td", {}, usd(key.spent)), el("td", {}, usd(key.budgetRemaining)),
    el("td", { class: "actions" },
      key.status === "disabled"
        ? el("button", { onclick: guarded(() => act("POST", `keys/${encodeURIComponent(key.name)}/enable`)) }, t("keys.enable"))
        : el("button", { onclick: guarded(() => act("POST", `keys/${encodeURIComponent(key.name)}/disable`)) }, t("keys.disable")),
      el("button", { class: "danger", onclick: guarded(async () => {
        if (confirm(t("keys.confirmRevoke", { name: key.name }))) await act("DELETE", `keys/${encodeURIComponent(key.name)}`);
      }) }, t("keys.revoke")))));

  const keyName = el("input", { id: "key-name", required: true, maxlength: 100 });
  const keyUser = el("select", { id: "key-user" }, el("option", { value: "" }, t("keys.noUser")),
    users.data.map(user => el("option", { value: user.name }, user.name)));
  const createdSlot = el("div", { id: "created-slot" });
  const createKey = el("form", { class: "inline", id: "create-key", onsubmit: guarded(async () => {
    const created = await api("POST", "keys", keyUser.value ? { name: keyName.value, user: keyUser.value } : { name: keyName.value });
    await refresh();
    main.querySelector("#created-slot").replaceChildren(createdPanel(created, refresh));
  }) }, el("label", {}, t("keys.name"), keyName), el("label", {}, t("keys.user"), keyUser), el("button", { class: "primary", type: "submit" }, t("keys.create")));

  const userRows = users.data.map(user => {
    const amount = el("input", { type: "number", step: "0.01", "aria-label": t("users.amount"), class: "topup-amount", required: true });
    return el("tr", { "data-user": user.name },
      el("td", {}, user.name), el("td", { class: "balance" }, user.prepaid ? usd(user.balance) : t("users.notPrepaid")),
      el("td", {}, usd(user.spent)), el("td", {}, user.keys),
      el("td", {}, el("form", { class: "inline", onsubmit: guarded(() => act("POST", `users/${encodeURIComponent(user.name)}/topup`, { amount: Number(amount.value) })) },
        amount, el("button", { type: "submit" }, t("users.topup")))));
  });
  const userName = el("input", { id: "user-name", required: true, maxlength: 100 });
  const userBalance = el("input", { id: "user-balance", type: "number", step: "0.01" });
  const createUser = el("form", { class: "inline", id: "create-user", onsubmit: guarded(() =>
    act("POST", "users", userBalance.value === "" ? { name: userName.value } : { name: userName.value, balance: Number(userBalance.value) })) },
    el("label", {}, t("users.name"), userName), el("label", {}, t("users.startBalance"), userBalance), el("button", { type: "submit" }, t("users.create")));

  const table = (headings, rows, empty) => rows.length
    ? el("table", {}, el("thead", {}, el("tr", {}, headings.map(h => el("th", {}, t(h))))), el("tbody", {}, rows))
    : el("p", { class: "muted" }, t(empty));

  main.replaceChildren(
    el("h1", {}, t("keys.title")), errorLine, createdSlot,
    el("section", {}, el("h2", {}, t("keys.keys")), createKey,
      table(["keys.name", "keys.prefix", "keys.status", "keys.user", "keys.limits", "keys.spent", "keys.budgetLeft", "keys.actions"], keyRows, "keys.none")),
    el("section", {}, el("h2", {}, t("keys.users")), createUser,
      table(["users.name", "users.balance", "users.spent", "users.keys", "users.topup"], userRows, "users.none")));
}
