// The usage log: filters and the page cursor live in the URL (?key=&model=&status=&before=), so a filtered page can be
// linked, reloaded and gone back to (limit too: 50 a page unless the URL says otherwise); /console/usage/{id} opens one
// request.
import { api } from "./api.js";
import { el } from "./dom.js";
import { t } from "./i18n.js";
import { navigate } from "./app.js";

const filters = ["key", "model", "status"];
const pageSize = 50;
const usd = value => value === null || value === undefined ? "—" : `$${Number(value).toFixed(4)}`;
const ms = value => value === null || value === undefined ? "—" : `${Math.round(value)} ms`;

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}

export async function renderUsage(main, rest) {
  if (rest[0]) return renderRequest(main, rest[0]);
  const current = new URLSearchParams(location.search);
  const chosen = Object.fromEntries(filters.map(name => [name, current.get(name) ?? ""]));
  const before = current.get("before") ?? "";
  const limit = current.get("limit") ?? "";
  const page = await api("GET", `usage${query({ ...chosen, before, limit: limit || String(pageSize) })}`);

  const inputs = Object.fromEntries(filters.map(name => [name, el("input", { id: `filter-${name}`, value: chosen[name] })]));
  inputs.status.setAttribute("placeholder", t("usage.statusHint"));
  const form = el("form", { class: "inline", id: "usage-filter", onsubmit: event => {
    event.preventDefault();
    navigate(`usage${query({ ...Object.fromEntries(filters.map(name => [name, inputs[name].value.trim()])), limit })}`);
  } }, filters.map(name => el("label", {}, t(`usage.${name}`), inputs[name])), el("button", { class: "primary", type: "submit" }, t("usage.filter")));

  const rows = page.data.map(item => el("tr", { "data-request": item.requestId },
    el("td", {}, el("a", { href: `usage/${item.id}`, "data-link": true }, new Date(item.time).toLocaleString())),
    el("td", {}, item.key ?? "—"), el("td", {}, item.model ?? "—"), el("td", {}, item.provider ?? "—"),
    el("td", { class: item.status >= 400 ? "error" : "" }, item.status),
    el("td", {}, `${item.inputTokens} / ${item.outputTokens}`), el("td", {}, usd(item.cost)), el("td", {}, ms(item.durationMs))));

  const pager = el("p", { class: "actions" },
    before ? el("a", { href: `usage${query({ ...chosen, limit })}`, "data-link": true, id: "usage-newest" }, t("usage.newest")) : null,
    page.hasMore ? el("a", { href: `usage${query({ ...chosen, limit, before: String(page.nextBefore) })}`, "data-link": true, id: "usage-older" }, t("usage.older")) : null);

  main.replaceChildren(el("h1", {}, t("usage.title")), el("section", {}, form,
    rows.length
      ? el("table", { id: "usage-table" }, el("thead", {}, el("tr", {}, ["usage.time", "usage.key", "usage.model", "usage.provider", "usage.status", "usage.tokens", "usage.cost", "usage.duration"].map(h => el("th", {}, t(h))))), el("tbody", {}, rows))
      : el("p", { class: "muted" }, t("usage.none")),
    pager));
}

async function renderRequest(main, id) {
  if (!/^\d+$/.test(id)) throw new Error(t("usage.notFound"));
  // The record with this id is the first of the page that ends just after it.
  const page = await api("GET", `usage?before=${BigInt(id) + 1n}&limit=1`);
  const item = page.data[0];
  if (!item || String(item.id) !== id) throw new Error(t("usage.notFound"));
  const fields = [
    ["usage.time", new Date(item.time).toLocaleString()], ["usage.requestId", item.requestId], ["usage.key", item.key],
    ["usage.user", item.user], ["usage.endpoint", item.endpoint], ["usage.model", item.model], ["usage.provider", item.provider],
    ["usage.upstreamModel", item.upstreamModel], ["usage.routeRule", item.routeRule], ["usage.status", item.status],
    ["usage.errorType", item.errorType], ["usage.attempts", item.attempts], ["usage.attemptLog", item.attemptLog],
    ["usage.streamed", item.streamed ? "✓" : "—"], ["usage.firstByte", ms(item.firstByteMs)], ["usage.duration", ms(item.durationMs)],
    ["usage.inputTokens", item.inputTokens], ["usage.outputTokens", item.outputTokens], ["usage.cacheRead", item.cacheReadTokens],
    ["usage.cacheWrite", item.cacheWrite5mTokens + item.cacheWrite1hTokens], ["usage.cost", usd(item.cost)], ["usage.sessionId", item.sessionId],
  ];
  main.replaceChildren(el("h1", {}, t("usage.request")), el("p", {}, el("a", { href: "usage", "data-link": true }, t("usage.back"))),
    el("section", {}, el("table", { id: "usage-request" }, el("tbody", {},
      fields.map(([label, value]) => el("tr", {}, el("th", {}, t(label)), el("td", {}, value ?? "—")))))));
}
