// Starting a run and reading its Server-Sent Events (queued, frame, done, error).

import { t } from "livegrad/i18n.js";

// The message of a refused request: FastAPI-style `detail` (a list or a string), or the status.
function errorText(status, body) {
  const detail = body && body.detail;
  if (Array.isArray(detail)) return detail.map((d) => d.message || d.msg || JSON.stringify(d)).join("; ");
  if (typeof detail === "string") return detail;
  return t("The server answered {status}.", { status });
}

// POST the parameters; the streaming response, or an Error whose message the page shows
// (with .status and .detail, the server's list of {field, message}, for a refusal).
// `pace: "none"` asks for the events as soon as they exist (a replay's "Skip to end").
export async function openStream(slug, params, signal, pace) {
  const query = pace ? `?pace=${encodeURIComponent(pace)}` : "";
  const response = await fetch(`/api/demos/${slug}/stream${query}`, {
    method: "POST", signal,
    // The server words its refusals, errors and frames in the page's language.
    headers: { "Content-Type": "application/json", Accept: "text/event-stream",
               "Accept-Language": document.documentElement.lang || "en" },
    body: JSON.stringify(params),
  });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    const wait = response.headers.get("Retry-After");
    const reason = errorText(response.status, body);
    const error = new Error(wait ? t("{reason} Retry in {seconds} s.", { reason, seconds: wait }) : reason);
    error.status = response.status;
    error.retryAfter = wait ? Number(wait) : null; // seconds (a 429: the page retries by itself)
    error.reason = reason;
    error.detail = body && Array.isArray(body.detail) ? body.detail : [];
    throw error;
  }
  return response;
}

// One event block of a text/event-stream: its name and its data lines.
function parseBlock(block) {
  let name = "message";
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue; // keep-alive comment
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") name = value;
    else if (field === "data") data.push(value);
  }
  return { name, data };
}

// Parse a text/event-stream body incrementally: calls onEvent(name, data) per event.
export async function readEventStream(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) break;
    buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
    let boundary;
    while ((boundary = buffer.indexOf("\n\n")) >= 0) {
      const { name, data } = parseBlock(buffer.slice(0, boundary));
      buffer = buffer.slice(boundary + 2);
      if (data.length) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}
