// THE table of control kinds. app/controls.py picks each parameter's kind from its JSON
// Schema and templates/_controls.html renders it (one macro per kind); here each kind says
//   read(input): the parameter's value from the form element;
//   write(input, value): set the form element to a value (from a link, a reset, a click);
//   refresh(input): optional, update what shows the value beside the element;
//   wire(input, demo): optional, listen to more than the form's own events.
// A new kind is one entry here, one macro and one entry in app/controls.py's CONTROL_KINDS
// (tests/test_controls.py checks the three agree).

import { t } from "livegrad/i18n.js";
import { omittedFromLink } from "livegrad/share.js";
import { formatValue } from "livegrad/util.js";

const setValue = (input, value) => { input.value = value; };

// A log-scale slider moves over log10(value); the parameter is 10^position.
const fromLog = (position) => Number(Math.pow(10, Number(position)).toPrecision(3));
const isLog = (input) => input.dataset.scale === "log";
// The slider snaps to its 0.01 grid, so 0.25 (log10 -0.602) would sit at -0.60 and read
// 0.251. The exact value it was given (a default, a preset, a link) is kept and read back
// for as long as the slider stays on the grid point nearest to it.
const readLog = (input) => {
  const exact = Number(input.dataset.exact);
  const half = Number(input.step) / 2 + 1e-9;
  return exact > 0 && Math.abs(Number(input.value) - Math.log10(exact)) <= half
    ? exact : fromLog(input.value);
};

export const CONTROL_KINDS = {
  range: {
    read: (input) => (isLog(input) ? readLog(input) : Number(input.value)),
    write(input, value) {
      if (!isLog(input)) { input.value = value; return; }
      input.value = Math.log10(Number(value));
      input.dataset.exact = Number(value);
    },
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

  // A one-line box, or a text area for a paragraph (with its bound shown under the label).
  text: {
    read: (input) => input.value,
    write: setValue,
    refresh: showLength,
    // Enter runs, as in a one-line box (Shift+Enter: a new line). The text area's own
    // "change" at its next blur then says nothing new: it would clear a refusal's words.
    wire(input, demo) {
      if (input.tagName !== "TEXTAREA") return;
      input.addEventListener("keydown", (event) => {
        if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
        event.preventDefault();
        input.dataset.ran = input.value;
        demo.run();
      });
      input.addEventListener("change", (event) => {
        if (input.dataset.ran === input.value) event.stopPropagation();
        delete input.dataset.ran;
      });
    },
  },

  // Points the student adds by clicking a chart (or typing x and y: the keyboard's way);
  // the form holds them as JSON.
  points: {
    read: (input) => JSON.parse(input.value || "null"),
    write(input, value) {
      const omitted = omittedFromLink(value); // a link too short to hold them (share.js)
      if (!omitted) input.value = typeof value === "string" ? value : JSON.stringify(value);
      showNote(input, omitted ? t("This link could not carry the points ({omitted}).", { omitted }) : null, false);
    },
    refresh(input) {
      const count = input.parentElement.querySelector(".points-count");
      const n = (this.read(input) || []).length;
      if (count) count.textContent = n === 1 ? t("{n} point", { n }) : t("{n} points", { n });
    },
    wire(input, demo) {
      const chart = demo.charts[input.dataset.chart];
      if (chart) chart.div.addEventListener("click", (event) => clickPoint(input, chart.div, event, demo));
      const box = input.closest(".control");
      const add = () => typePoint(input, box, demo);
      box.querySelector("[data-add-point]")?.addEventListener("click", add);
      for (const field of box.querySelectorAll(".points-coordinate")) {
        field.addEventListener("keydown", (event) => {
          if (event.key !== "Enter") return;
          event.preventDefault();
          event.stopPropagation(); // Enter here adds the point; elsewhere in the form it runs
          add();
        });
      }
    },
  },

  // CSV of points, pasted or loaded from a file read here (FileReader); the text itself is
  // the value, and the server reads it (app/points_csv.py), saying which row is wrong.
  csv: {
    read: (input) => input.value,
    write(input, value) {
      const omitted = omittedFromLink(value);
      input.value = omitted ? "" : value;
      const note = t("This link could not carry the CSV ({omitted}): load the file again to run what was shared.",
        { omitted });
      showNote(input, omitted ? note : null, false);
    },
    refresh: showLength,
    wire(input, demo) {
      const box = input.closest(".control");
      const activate = () => {
        if (input.value.trim()) demo.setValues(JSON.parse(input.dataset.activates || "{}"));
      };
      input.addEventListener("input", activate);
      const file = box.querySelector('input[type="file"]');
      file?.addEventListener("change", () => {
        const chosen = file.files[0];
        if (chosen) loadCsv(input, chosen, demo, activate);
      });
      box.querySelector("[data-clear-csv]")?.addEventListener("click", () => {
        writeControl(input, "");
        if (file) file.value = "";
        demo.controlChanged();
      });
    },
  },
};

// "123 / 1 000 characters" (and the lines, in a CSV) under a text area's label.
function showLength(input) {
  const count = document.getElementById(`${input.id}-count`);
  if (!count) return;
  const max = Number(input.dataset.maxLength);
  const lines = input.value.split(/\r\n|\r|\n/).filter((line) => line.trim()).length;
  const values = { lines, length: grouped(input.value.length), max: grouped(max) };
  if (!input.closest(".control-csv")) count.textContent = t("{length} / {max} characters", values);
  else if (lines === 1) count.textContent = t("{lines} line · {length} / {max} characters", values);
  else count.textContent = t("{lines} lines · {length} / {max} characters", values);
  count.dataset.over = input.value.length > max ? "true" : "false";
}

const grouped = (n) => n.toLocaleString("en").replace(/,/g, "\u00a0");

// Read a chosen file as text into the CSV box. A file far over the bound is not read at all
// (the server would refuse its text anyway): the status says so at once.
function loadCsv(input, file, demo, activate) {
  const max = Number(input.dataset.maxLength);
  if (file.size > 4 * max) {
    demo.say(t("Not loaded: {name} is {size} bytes; points from CSV holds at most {max} characters.",
      { name: file.name, size: grouped(file.size), max: grouped(max) }), "error");
    return;
  }
  const reader = new FileReader();
  reader.addEventListener("load", () => {
    writeControl(input, String(reader.result));
    activate();
    demo.controlChanged();
  });
  reader.addEventListener("error", () => demo.say(t("Could not read {name}.", { name: file.name }), "error"));
  reader.readAsText(file);
}

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
function clickPoint(input, div, event, demo) {
  const layout = div._fullLayout;
  if (!layout || !layout.xaxis) return;
  const rect = div.getBoundingClientRect(), size = layout._size;
  const px = event.clientX - rect.left - size.l, py = event.clientY - rect.top - size.t;
  if (px < 0 || py < 0 || px > size.w || py > size.h) return;
  placePoint(input, demo, layout.xaxis.p2d(px), layout.yaxis.p2d(py));
}

// The keyboard's way: the x and y boxes beside the chart's hint, then Add point (or Enter).
function typePoint(input, box, demo) {
  const fields = Array.from(box.querySelectorAll(".points-coordinate"));
  const values = [];
  for (const field of fields) {
    const value = field.value.trim() === "" ? NaN : Number(field.value);
    const low = field.min === "" ? -Infinity : Number(field.min);
    const high = field.max === "" ? Infinity : Number(field.max);
    const ok = Number.isFinite(value) && value >= low && value <= high;
    field.toggleAttribute("aria-invalid", !ok);
    if (!ok) {
      const values = { axis: field.dataset.axis, min: field.min, max: field.max };
      demo.say(field.min === "" ? t("Not added: {axis} must be a number.", values)
        : t("Not added: {axis} must be a number from {min} to {max}.", values), "error");
      field.focus();
      return;
    }
    values.push(value);
  }
  if (placePoint(input, demo, ...values)) {
    for (const field of fields) field.value = "";
    fields[0].focus();
  }
}

// Add (x, y) to the points, exactly as a click does: rounded to 0.001, drawn on the chart,
// switching what it activates (dataset: custom), and the demo told. False if full.
function placePoint(input, demo, x, y) {
  const points = readControl(input) || [];
  if (points.length >= Number(input.dataset.maxItems)) {
    demo.say(t("At most {max} points.", { max: input.dataset.maxItems }));
    return false;
  }
  const round = (v) => Math.round(v * 1000) / 1000;
  points.push([round(x), round(y)]);
  writeControl(input, points);
  demo.setValues(JSON.parse(input.dataset.activates || "{}"));
  const chart = demo.charts[input.dataset.chart];
  if (chart) {
    const div = chart.div;
    Plotly.react(div, [{ x: points.map((p) => p[0]), y: points.map((p) => p[1]), mode: "markers",
      type: "scatter", name: t("your points"), marker: { size: 8 } }],
      { ...div.layout, showlegend: true }); // same axes and plot area as clicked
  }
  demo.controlChanged();
  return true;
}

// ---- controls another control limits --------------------------------------------------
// app/demos/base.py control(divides=..., length_of=...) puts data-<hint> on the element;
// after any control moves (and after a reset or a link), each such control follows:
//   check(input, params, moved) → { value: what it must now hold (else undefined),
//     note: what its .control-note says (null: nothing; undefined: keep), unmet: bool }.
// The server checks the same (a model validator), for API clients.

const countNumbers = (text) => String(text).trim().split(/[,\s;]+/).filter(Boolean).length;
const nameOf = (input) => input.dataset.label || input.name.replace(/_/g, " ");

export const DEPENDS_ON = {
  // Only the divisors of another field (heads of d_model): they are the slider's stops.
  divides: {
    check(input, params, moved) {
      const whole = Number(params[input.dataset.divides]);
      const stops = [];
      for (let d = Number(input.min); d <= Number(input.max); d++) if (whole % d === 0) stops.push(d);
      markStops(input, stops);
      const value = Number(input.value), was = Number(input.dataset.was || value);
      let next = value;
      if (stops.length && !stops.includes(value)) {
        if (moved === input) { // the student slid it: on to the next stop that way, if any
          const way = value > was ? stops.filter((s) => s >= value) : stops.filter((s) => s <= value).reverse();
          next = way.length ? way[0] : was;
        } else { // the other field moved: the nearest stop, the larger on a tie
          next = stops.reduce((best, s) => (Math.abs(s - value) <= Math.abs(best - value) ? s : best));
        }
      }
      input.dataset.was = String(next);
      if (next === value) return { note: moved === input || moved === null ? null : undefined };
      return {
        value: next,
        note: moved === input ? null : t("{name}: {value} does not divide {whole}; set to {next}.",
          { name: nameOf(input), value, whole, next }),
      };
    },
  },

  // As many numbers as another box holds, or up to `extra` more (GAE values of rewards).
  "length-of": {
    check(input, params) {
      const { field, extra } = JSON.parse(input.getAttribute("data-length-of"));
      const want = countNumbers(params[field]), have = countNumbers(input.value);
      const counts = Array.from({ length: extra + 1 }, (_, i) => want + i);
      const unmet = !counts.includes(have);
      const other = input.form && input.form.querySelector(`[name="${field}"]`);
      const values = { counts: counts.slice(0, -1).join(", "), last: counts[counts.length - 1],
                       field: other ? nameOf(other) : field, want, have };
      const one = want + extra === 1;
      let note;
      if (counts.length === 1 && unmet) {
        note = one ? t("needs {last} number ({field} has {want}); it has {have}.", values)
          : t("needs {last} numbers ({field} has {want}); it has {have}.", values);
      } else if (counts.length === 1) {
        note = one ? t("needs {last} number ({field} has {want}).", values)
          : t("needs {last} numbers ({field} has {want}).", values);
      } else if (unmet) {
        note = one ? t("needs {counts} or {last} number ({field} has {want}); it has {have}.", values)
          : t("needs {counts} or {last} numbers ({field} has {want}); it has {have}.", values);
      } else {
        note = one ? t("needs {counts} or {last} number ({field} has {want}).", values)
          : t("needs {counts} or {last} numbers ({field} has {want}).", values);
      }
      return { note, unmet };
    },
  },
};

// The allowed stops as tick marks on a slider's track (a <datalist> it lists).
function markStops(input, stops) {
  let list = document.getElementById(`${input.id}-stops`);
  if (!list) {
    list = document.createElement("datalist");
    list.id = `${input.id}-stops`;
    input.after(list);
    input.setAttribute("list", list.id);
  }
  list.replaceChildren(...stops.map((s) => new Option("", String(s))));
}

function showNote(input, text, unmet) {
  const box = input.closest(".control");
  let note = box.querySelector(".control-note");
  if (!note) {
    note = document.createElement("p");
    note.className = "control-note";
    note.setAttribute("aria-live", "polite");
    box.insertBefore(note, box.querySelector(".control-help"));
  }
  note.textContent = text || "";
  note.hidden = !text;
  note.dataset.unmet = unmet ? "true" : "false";
}

// Every limited control of `form` follows the others; `moved` is the element the student
// moved (null after a reset or a link). Returns the values, as the controls now hold them.
export function followDependencies(form, params, moved) {
  for (const input of form.querySelectorAll("[name]")) {
    for (const [hint, rule] of Object.entries(DEPENDS_ON)) {
      if (!input.hasAttribute(`data-${hint}`)) continue;
      const { value, note, unmet } = rule.check(input, params, moved);
      if (value !== undefined) {
        writeControl(input, value);
        params[input.name] = value;
      }
      if (note !== undefined) showNote(input, note, unmet);
    }
  }
  return params;
}
