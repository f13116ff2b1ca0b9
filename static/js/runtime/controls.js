// THE table of control kinds. app/controls.py picks each parameter's kind from its JSON
// Schema and templates/_controls.html renders it (one macro per kind); here each kind says
//   read(input): the parameter's value from the form element;
//   write(input, value): set the form element to a value (from a link, a reset, a click);
//   refresh(input): optional, update what shows the value beside the element;
//   wire(input, demo): optional, listen to more than the form's own events.
// A new kind is one entry here, one macro and one entry in app/controls.py's CONTROL_KINDS
// (tests/test_controls.py checks the three agree).

import { formatValue } from "livegrad/util.js";

const setValue = (input, value) => { input.value = value; };

// A log-scale slider moves over log10(value); the parameter is 10^position.
const fromLog = (position) => Number(Math.pow(10, Number(position)).toPrecision(3));
const isLog = (input) => input.dataset.scale === "log";

export const CONTROL_KINDS = {
  range: {
    read: (input) => (isLog(input) ? fromLog(input.value) : Number(input.value)),
    write(input, value) { input.value = isLog(input) ? Math.log10(Number(value)) : value; },
    refresh(input) {
      const shown = formatValue(this.read(input));
      const out = input.form.querySelector(`output[for="${input.id}"]`);
      if (out) out.textContent = shown;
      input.setAttribute("aria-valuetext", `${input.dataset.label || input.name} ${shown}`);
    },
  },

  select: {
    read: (input) => (input.dataset.type === "number" ? Number(input.value) : input.value),
    // A value it does not offer (a hand-edited link) leaves the choice as it was.
    write(input, value) {
      if (Array.from(input.options).some((o) => o.value === String(value))) input.value = value;
    },
  },

  checkbox: {
    read: (input) => input.checked,
    write(input, value) { input.checked = value === true || value === "true"; },
  },

  number: {
    read: (input) => Number(input.value),
    write: setValue,
  },

  text: {
    read: (input) => input.value,
    write: setValue,
  },

  // Points the student adds by clicking a chart; the form holds them as JSON.
  points: {
    read: (input) => JSON.parse(input.value || "null"),
    write(input, value) { input.value = typeof value === "string" ? value : JSON.stringify(value); },
    refresh(input) {
      const count = input.parentElement.querySelector(".points-count");
      const n = (this.read(input) || []).length;
      if (count) count.textContent = `${n} point${n === 1 ? "" : "s"}`;
    },
    wire(input, demo) {
      const chart = demo.charts[input.dataset.chart];
      if (chart) chart.div.addEventListener("click", (event) => addPoint(input, chart.div, event, demo));
    },
  },
};

// The template wraps every control in <div class="control control-<kind>">.
function kindOf(input) {
  const box = input.closest(".control");
  const name = Array.from(box.classList).find((c) => c.startsWith("control-"));
  return CONTROL_KINDS[name.slice("control-".length)];
}

export const readControl = (input) => kindOf(input).read(input);

export function refreshControl(input) {
  const kind = kindOf(input);
  if (kind.refresh) kind.refresh(input);
}

export function writeControl(input, value) {
  kindOf(input).write(input, value);
  refreshControl(input);
}

export function wireControl(input, demo) {
  const kind = kindOf(input);
  if (kind.wire) kind.wire(input, demo);
}

// A click inside the plot area adds a point there, in data coordinates.
function addPoint(input, div, event, demo) {
  const layout = div._fullLayout;
  if (!layout || !layout.xaxis) return;
  const rect = div.getBoundingClientRect(), size = layout._size;
  const px = event.clientX - rect.left - size.l, py = event.clientY - rect.top - size.t;
  if (px < 0 || py < 0 || px > size.w || py > size.h) return;
  const points = readControl(input) || [];
  if (points.length >= Number(input.dataset.maxItems)) {
    demo.say(`At most ${input.dataset.maxItems} points.`);
    return;
  }
  const round = (v) => Math.round(v * 1000) / 1000;
  points.push([round(layout.xaxis.p2d(px)), round(layout.yaxis.p2d(py))]);
  writeControl(input, points);
  demo.setValues(JSON.parse(input.dataset.activates || "{}"));
  Plotly.react(div, [{ x: points.map((p) => p[0]), y: points.map((p) => p[1]), mode: "markers",
    type: "scatter", name: "your points", marker: { size: 8 } }],
    { ...div.layout, showlegend: true }); // same axes and plot area as clicked
  demo.controlChanged();
}
