// Compare with a pinned run. "Pin" keeps the current run as a baseline: every chart whose
// ops append to traces (loss curves, returns, inertia) draws the pinned run's curves as
// faint dotted ghosts under the next runs, and a table sets the two runs' parameters and
// results side by side, the parameters that differ first and marked.

import { t } from "livegrad/i18n.js";
import { chartStateAt } from "livegrad/ops.js";
import { COLORWAY } from "livegrad/plotting.js";
import { clone, formatValue } from "livegrad/util.js";

const MAX_RESULT_ROWS = 10;
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const shown = (v) => {
  if (v === undefined) return "…";
  if (typeof v === "number") return formatValue(v);
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
};
const scalar = (v) => ["number", "string", "boolean"].includes(typeof v);

// The traces of chart `id` that the run's ops appended to, as they ended.
function appendedTraces(frames, id, declared) {
  const appended = new Set();
  for (const frame of frames) {
    const op = frame.charts && frame.charts[id];
    if (op && op.op === "extend") op.traces.forEach((i) => appended.add(i));
  }
  if (!appended.size) return [];
  const { data } = chartStateAt(frames, id, declared, frames.length - 1);
  return [...appended].sort((a, b) => a - b).filter((i) => data[i]).map((i) => {
    const ghost = clone(data[i]);
    const own = (ghost.line && ghost.line.color)
      || (ghost.marker && typeof ghost.marker.color === "string" && ghost.marker.color);
    const color = own || COLORWAY[i % COLORWAY.length];
    ghost.line = { ...(ghost.line || {}), color, dash: "dot" };
    if (ghost.marker) ghost.marker = { ...ghost.marker, color };
    ghost.opacity = 0.45;
    ghost.legendgroup = "pinned"; // one legend entry shows (and toggles) them all
    ghost.baseName = ghost.name || t("trace {n}", { n: i + 1 });
    return ghost;
  });
}

export class Compare {
  constructor(demo, box, button) {
    this.demo = demo;
    this.box = box;
    this.button = button;
    this.pinned = null;
  }

  toggle() {
    if (this.pinned) this.unpin();
    else this.pin();
  }

  pin() {
    const { record, timeline, charts } = this.demo;
    if (!record || !timeline.frames.length) return;
    const frames = timeline.frames;
    this.pinned = { params: record.params, record, ghosts: {} };
    for (const [id, chart] of Object.entries(charts)) {
      const ghosts = appendedTraces(frames, id, chart.traces);
      if (ghosts.length) this.pinned.ghosts[id] = ghosts;
    }
    this.update({ redraw: true });
  }

  unpin() {
    this.pinned = null;
    this.update({ redraw: true });
  }

  // The pinned run's parameters that differ from `params`, as the legend says them.
  difference(params) {
    const keys = Object.keys(this.pinned.params).filter((k) => !same(this.pinned.params[k], params[k]));
    return keys.length ? keys.map((k) => `${k} ${shown(this.pinned.params[k])}`).join(", ") : t("same settings");
  }

  // Ghosts named after what differs, the table, the button: after a pin, an unpin, a
  // new run's start and its end.
  update({ redraw = false } = {}) {
    const { charts, record } = this.demo;
    const current = (record && record.params) || this.demo.params();
    const label = this.pinned ? t("pinned run: {difference}", { difference: this.difference(current) }) : "";
    for (const [id, chart] of Object.entries(charts)) {
      chart.ghosts = (this.pinned && this.pinned.ghosts[id] || []).map((g, i) => ({
        ...g, name: i === 0 ? label : t("{name} (pinned)", { name: g.baseName }), showlegend: i === 0,
      }));
    }
    // A run is pinned whole: once it has ended (finished or stopped).
    this.button.disabled = !this.pinned && (this.demo.running() || !this.demo.timeline.frames.length);
    this.button.textContent = this.pinned ? t("Unpin") : t("Pin run");
    this.button.setAttribute("aria-pressed", String(Boolean(this.pinned)));
    this.renderTable(current, record && record.result);
    // Pinning or unpinning draws or removes the ghosts at once.
    if (redraw && this.demo.timeline.frames.length) this.demo.showAt(this.demo.timeline.cursor);
  }

  renderTable(params, result) {
    this.box.hidden = !this.pinned;
    this.box.textContent = "";
    if (!this.pinned) return;
    const table = document.createElement("table");
    table.createCaption().textContent = t("This run against the pinned run");
    const head = table.createTHead().insertRow();
    for (const text of ["", t("pinned"), t("this run")]) {
      const th = document.createElement("th");
      th.scope = "col";
      th.textContent = text;
      head.appendChild(th);
    }
    const body = table.createTBody();
    const row = (name, a, b, differs) => {
      const tr = body.insertRow();
      if (differs) tr.className = "differs";
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = differs ? `≠ ${name}` : name; // not by colour alone
      tr.append(th);
      tr.insertCell().textContent = shown(a);
      tr.insertCell().textContent = shown(b);
    };
    // The parameters that differ, marked; the others named in one line under the table.
    const keys = Object.keys(this.pinned.params);
    const differs = (k) => !same(this.pinned.params[k], params[k]);
    for (const k of keys.filter(differs)) row(k, this.pinned.params[k], params[k], true);
    const alike = keys.filter((k) => !differs(k));
    const pinnedResult = this.pinned.record.result || {};
    const resultKeys = Object.keys(pinnedResult).filter((k) => scalar(pinnedResult[k]));
    if (resultKeys.length) {
      const th = document.createElement("th");
      th.colSpan = 3;
      th.scope = "colgroup";
      th.textContent = t("result");
      body.insertRow().appendChild(th);
      for (const k of resultKeys.slice(0, MAX_RESULT_ROWS)) {
        row(k, pinnedResult[k], result ? result[k] : undefined, false);
      }
    }
    this.box.appendChild(table);
    const note = document.createElement("p");
    note.className = "compare-same";
    note.textContent = alike.length === keys.length ? t("Same settings as the pinned run.")
      : t("Same in both: {names}.", { names: alike.join(", ") });
    this.box.appendChild(note);
  }
}
