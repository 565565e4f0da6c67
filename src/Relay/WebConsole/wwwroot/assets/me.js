// A key holder's own key (/console/me): its status, limits, budget and balance left, and its recent requests, from
// GET api/me (the same document as GET /v1/key). Nothing here names any other key.
import { api } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";

const usd = value => value === null || value === undefined ? "—" : `$${Number(value).toFixed(4)}`;
const time = value => value ? new Date(value).toLocaleString() : "—";

function limitsOf(me) {
  const parts = [];
  if (me.limits.requests_per_minute) parts.push(`${me.limits.requests_per_minute} rpm`);
  if (me.limits.tokens_per_minute) parts.push(`${me.limits.tokens_per_minute} tpm`);
  if (me.limits.concurrency) parts.push(`${me.limits.concurrency} ∥`);
  if (me.models) parts.push(me.models.join(", "));
  if (me.allowed_ips) parts.push(me.allowed_ips.join(", "));
  return parts.length ? parts.join(" · ") : t("keys.noLimits");
}

function row(label, value, id) {
  return el("tr", {}, el("th", {}, label), el("td", id ? { id } : {}, value));
}

export async function renderMe(main) {
  const me = await api("GET", "me");
  const facts = el("table", { class: "facts" }, el("tbody", {},
    row(t("me.name"), me.name, "me-name"),
    row(t("me.prefix"), me.prefix),
    row(t("keys.status"), el("span", { class: `status-${me.status}` }, t(`status.${me.status}`)), "me-status"),
    row(t("me.expires"), time(me.expires_at)),
    row(t("me.limits"), limitsOf(me)),
    me.budget ? row(t("me.budget"), `${usd(me.budget.limit)} / ${me.budget.period}`) : null,
    me.budget ? row(t("me.budgetLeft"), usd(me.budget.remaining), "me-budget-left") : null,
    me.budget?.resets_at ? row(t("me.resets"), time(me.budget.resets_at)) : null,
    row(t("me.spent"), usd(me.spent)),
    me.user ? row(t("usage.user"), me.user.name) : null,
    me.user ? row(t("users.balance"), me.user.balance === null ? t("users.notPrepaid") : usd(me.user.balance), "me-balance") : null));

  const rows = me.recent_usage.map(item => el("tr", { "data-request": item.request_id },
    el("td", {}, time(item.time)), el("td", {}, item.model ?? "—"), el("td", {}, item.endpoint ?? "—"),
    el("td", { class: item.status >= 400 ? "error" : "" }, item.error_type ? `${item.status} ${item.error_type}` : item.status),
    el("td", {}, `${item.input_tokens} / ${item.output_tokens}`), el("td", {}, usd(item.cost)), el("td", {}, item.request_id)));
  const recent = rows.length
    ? el("table", { id: "me-recent" },
      el("thead", {}, el("tr", {}, [t("usage.time"), t("usage.model"), t("usage.endpoint"), t("usage.status"), t("usage.tokens"), t("usage.cost"), t("usage.requestId")].map(h => el("th", {}, h)))),
      el("tbody", {}, rows))
    : el("p", { class: "muted", id: "me-recent" }, t("me.noRequests"));

  main.replaceChildren(el("section", {}, el("h1", {}, t("me.title")), facts),
    el("section", {}, el("h2", {}, t("me.recent")), recent));
}
