// Calls the console API (same origin, the session cookie); every change carries the session's CSRF token.
const apiBase = new URL("api/", document.baseURI);
let csrfToken = null;

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

export function setCsrfToken(token) { csrfToken = token; }

export async function api(method, path, body) {
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["X-Relay-Csrf"] = csrfToken;
  const response = await fetch(new URL(path, apiBase), {
    method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const json = text && response.headers.get("content-type")?.startsWith("application/json") ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, json?.error?.message ?? `HTTP ${response.status}`);
  return json;
}

// The address clients use: this origin and Relay's base path (the console lives at {basePath}/console/).
export function gatewayUrl() {
  return new URL("..", document.baseURI).href.replace(/\/$/, "");
}
