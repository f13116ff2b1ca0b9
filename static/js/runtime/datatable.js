// A chart's numbers as a table: the keyboard and screen-reader alternative to looking at
// it. Built from what the chart draws now (so at the timeline's frame), when opened and
// after each redraw while open.

import { t } from "livegrad/i18n.js";

const MAX_ROWS = 500;
const MAX_CELLS = 40; // a heatmap's rows and columns shown

const cellText = (v) => (typeof v === "number" ? String(Number(v.toPrecision(6))) : String(v ?? ""));
const axisTitle = (layout, axis) => {
  const title = layout && layout[axis] && layout[axis].title;
  return (title && (title.text || (typeof title === "string" && title))) || axis.slice(0, 1);
};

function table(caption, header, rows) {
  const box = document.createElement("table");
  box.createCaption().textContent = caption;
  const head = box.createTHead().insertRow();
  for (const text of header) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = text;
    head.appendChild(th);
  }
  const body = box.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    row.forEach((v, i) => {
      const cell = i === 0 ? document.createElement("th") : tr.insertCell();
      if (i === 0) { cell.scope = "row"; tr.appendChild(cell); }
      cell.textContent = cellText(v);
    });
  }
  return box;
}

function traceTable(trace, index, layout) {
  const name = trace.name || t("trace {n}", { n: index + 1 });
  if (Array.isArray(trace.z)) { // a heatmap: rows by y, columns by x
    const z = trace.z.slice(0, MAX_CELLS);
    const xs = (trace.x || (z[0] || []).map((_, j) => j)).slice(0, MAX_CELLS);
    const ys = trace.y || z.map((_, i) => i);
    return table(name, ["", ...xs.map(cellText)], z.map((row, i) => [ys[i], ...row.slice(0, MAX_CELLS)]));
  }
  if (!Array.isArray(trace.y) && !Array.isArray(trace.x)) return null;
  const ys = trace.y || [], xs = trace.x || ys.map((_, i) => i);
  const n = Math.max(xs.length, ys.length);
  const from = Math.max(0, n - MAX_ROWS);
  const rows = [];
  for (let i = from; i < n; i += 1) {
    rows.push([xs[i], ys[i], ...(Array.isArray(trace.text) ? [trace.text[i]] : [])]);
  }
  const header = [axisTitle(layout, trace.xaxis ? `xaxis${trace.xaxis.slice(1)}` : "xaxis"),
                  axisTitle(layout, trace.yaxis ? `yaxis${trace.yaxis.slice(1)}` : "yaxis"),
                  ...(Array.isArray(trace.text) ? [t("label")] : [])];
  const caption = from ? t("{name} (the last {count} of {total} points; Export CSV has them all)",
    { name, count: MAX_ROWS, total: n }) : name;
  return table(caption, header, rows);
}

export function wireDataTable(chart, details) {
  const body = details.querySelector(".chart-data-body");
  let queued = false;
  const fill = () => {
    queued = false;
    if (!details.open) return;
    body.textContent = "";
    const traces = chart.div.data || [];
    traces.forEach((trace, i) => {
      const drawn = traceTable(trace, i, chart.div.layout);
      if (drawn) body.appendChild(drawn);
    });
    if (!body.children.length) body.textContent = t("Nothing drawn yet: run the demo.");
  };
  const refill = () => { if (details.open && !queued) { queued = true; requestAnimationFrame(fill); } };
  details.addEventListener("toggle", refill);
  chart.ready.then(() => chart.div.on("plotly_afterplot", refill));
}
