// A run the server refused (422): what is wrong is said under the field that is wrong,
// and a refusal that only asks for more clicked points is a hint, not an error.

import { t } from "livegrad/i18n.js";

const TOO_FEW = /need at least (\d+) distinct points; points holds (\d+)/;
const NO_POINTS = /has no points yet/;

// The server's English words of a complaint: `message` is in the page's language, `msg`
// (for tools) may stay English; the patterns above read English.
const english = (item) => [item.msg, item.message].filter(Boolean).join("\n");

// The hint when every complaint is about too few clicked points (else null).
export function pointsHint(detail) {
  if (!detail.length) return null;
  if (detail.every((item) => NO_POINTS.test(english(item)))) {
    return t("Add points: click the chart, type x and y, or load a CSV.");
  }
  const gaps = detail.map((item) => TOO_FEW.exec(english(item)));
  if (gaps.some((gap) => !gap)) return null;
  const missing = Math.max(...gaps.map((gap) => Number(gap[1]) - Number(gap[2])));
  return missing === 1 ? t("Add {n} more point to run.", { n: missing })
    : t("Add {n} more points to run.", { n: missing });
}

// Each complaint that names a field of `form` shows under that field.
export function showFieldErrors(form, detail) {
  for (const item of detail) {
    const input = item.field && form.querySelector(`[name="${item.field}"]`);
    if (!input) continue;
    const note = document.createElement("p");
    note.className = "control-error";
    note.textContent = item.message;
    input.setAttribute("aria-invalid", "true");
    input.closest(".control").appendChild(note);
  }
}

export function clearFieldErrors(form) {
  for (const note of form.querySelectorAll(".control-error")) note.remove();
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}
