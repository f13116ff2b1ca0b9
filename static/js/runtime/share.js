// Links that reproduce a run: the page URL holds every non-default value of a demo as
// ?<instance>.<param>=value.
//
// A value too long for a link (a CSV of 2 000 points is ~30 kB; servers and proxies refuse
// request lines past 8–16 kB) is left out and the link says so in its place: the control
// that reads it back (controls.js) tells the student what is missing, and Copy link says
// the link is without it. Everything else in the link still holds.

import { t } from "livegrad/i18n.js";

export const LINK_VALUE_LIMIT = 2000; // characters of one value, before URL encoding
const OMITTED = /^\(too long for a link: (.+)\)$/;
const omitted = new Map(); // instance → names of the values its latest link left out

// What a link left out in place of a value ("23 412 characters"), or null. The link itself
// says it in English whatever the page's language (a link may be opened in another one).
export function omittedFromLink(value) {
  const match = typeof value === "string" ? OMITTED.exec(value) : null;
  if (!match) return null;
  const size = /^(.+) characters$/.exec(match[1]);
  return size ? t("{count} characters", { count: size[1] }) : match[1];
}

// Write `params` that differ from `presets` into the URL, replacing this instance's old ones.
export function saveToUrl(instance, params, presets) {
  const url = new URL(window.location.href);
  const prefix = `${instance}.`;
  for (const key of Array.from(url.searchParams.keys())) {
    if (key.startsWith(prefix)) url.searchParams.delete(key);
  }
  const left = [];
  for (const [name, value] of Object.entries(params)) {
    if (JSON.stringify(value) !== JSON.stringify(presets[name])) {
      // Lists (clicked points) as JSON text, which their control reads back.
      let text = Array.isArray(value) ? JSON.stringify(value) : String(value);
      if (text.length > LINK_VALUE_LIMIT) {
        left.push(name);
        text = `(too long for a link: ${text.length.toLocaleString("en").replace(/,/g, "\u00a0")} characters)`;
      }
      url.searchParams.set(prefix + name, text);
    }
  }
  omitted.set(instance, left);
  history.replaceState(history.state, "", url);
}

// The values the URL holds for this instance: a Map of parameter name to text.
export function valuesFromUrl(instance) {
  const prefix = `${instance}.`, values = new Map();
  for (const [key, value] of new URLSearchParams(window.location.search)) {
    const name = key.slice(prefix.length);
    if (key.startsWith(prefix) && !values.has(name)) values.set(name, value); // the first wins
  }
  return values;
}

// Copy the URL (already saved) pointing at this demo; say so on the button for a moment.
export function copyLink(instance, button) {
  const url = `${window.location.href.split("#")[0]}#demo-${instance}`;
  const left = omitted.get(instance) || [];
  const done = () => {
    button.textContent = left.length
      ? t("✓ Link copied, without {names} (too long for a link)", { names: left.join(", ") })
      : t("✓ Link copied");
    setTimeout(() => { button.textContent = t("Copy link"); }, left.length ? 5000 : 1800);
  };
  const ask = () => window.prompt(left.length
    ? t("Copy this link (it leaves out {names}: too long for a link):", { names: left.join(", ") })
    : t("Copy this link:"), url);
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(url).then(done, ask);
  else ask();
}
