// Downloads of a run: its record and charted data as JSON, its charted points as CSV.

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
    out[id] = (chart.div.data || []).map((t) => {
      const trace = { name: t.name || "", type: t.type || "scatter" };
      for (const k of ["x", "y", "z", "text"]) if (t[k] !== undefined) trace[k] = t[k];
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

const csvCell = (cell) => {
  const s = cell === undefined || cell === null ? "" : String(cell);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
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
