// Downloads of a run: its record and charted data as JSON, its charted points as CSV, and
// a notebook that reproduces it.

import { t } from "livegrad/i18n.js";

function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// What each chart shows now: its traces' names, kinds and data.
function chartData(demo) {
  const out = {};
  for (const [id, chart] of Object.entries(demo.charts)) {
    out[id] = (chart.div.data || []).map((drawn) => {
      const trace = { name: drawn.name || "", type: drawn.type || "scatter" };
      for (const k of ["x", "y", "z", "text"]) if (drawn[k] !== undefined) trace[k] = drawn[k];
      return trace;
    });
  }
  return out;
}

export function exportJson(demo) {
  const data = { ...(demo.record || { demo: demo.slug, params: demo.params() }),
    charts: chartData(demo), exported_at: new Date().toISOString() };
  download(`livegrad-${demo.instance}.json`, "application/json", JSON.stringify(data, null, 2));
}

const NEEDS_QUOTES = /[",\n]/;
const csvCell = (cell) => {
  const s = cell === undefined || cell === null ? "" : String(cell);
  return NEEDS_QUOTES.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

// One row per point of every x/y trace (heatmaps have no rows).
export function exportCsv(demo) {
  const rows = [["chart", "trace", "index", "x", "y"]];
  for (const [id, traces] of Object.entries(chartData(demo))) {
    for (const trace of traces) {
      if (!Array.isArray(trace.x) || !Array.isArray(trace.y) || trace.z) continue;
      trace.y.forEach((y, i) => rows.push([id, trace.name, i, trace.x[i], y]));
    }
  }
  const csv = rows.map((r) => r.map(csvCell).join(",")).join("\n");
  download(`livegrad-${demo.instance}.csv`, "text/csv", `${csv}\n`);
}

// "Open as notebook": a Jupyter notebook that reproduces the run shown (or, before any run,
// the controls' values) offline, built by the server (GET /api/demos/{slug}/notebook).
export async function openNotebook(demo) {
  const params = (demo.record && demo.record.params) || demo.params();
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    query.set(name, Array.isArray(value) ? JSON.stringify(value) : String(value));
  }
  // The server says what is wrong in the page's language.
  const response = await fetch(`/api/demos/${demo.slug}/notebook?${query}`, {
    headers: { "Accept-Language": document.documentElement.lang || "en" },
  });
  if (!response.ok) {
    const body = await response.json().catch(() => null);
    const detail = body && body.detail;
    const text = Array.isArray(detail) ? detail.map((d) => d.message || d.msg).join("; ") : detail;
    demo.say(text ? t("No notebook: {reason}.", { reason: text })
      : t("No notebook: the server answered {status}.", { status: response.status }), "error");
    return;
  }
  download(`livegrad-${demo.slug}.ipynb`, "application/x-ipynb+json", await response.text());
}
