// One demo on the page. It knows nothing about any particular demo: controls come from the
// server-rendered form (controls.js), charts from data-charts (plotting.js), and frames
// from the stream (stream.js) say what to draw (ops.js).

import { readControl, refreshControl, wireControl, writeControl } from "livegrad/controls.js";
import { exportCsv, exportJson } from "livegrad/export.js";
import { drawOp, queueOp } from "livegrad/ops.js";
import { Chart } from "livegrad/plotting.js";
import { copyLink, saveToUrl, valuesFromUrl } from "livegrad/share.js";
import { openStream, readEventStream } from "livegrad/stream.js";
import { clone, formatValue } from "livegrad/util.js";

const DEBOUNCE_MS = 350;

// The buttons: data-action="<name>" → what it does.
const ACTIONS = {
  run: (demo) => demo.run(),
  stop: (demo) => demo.stop("Stopped."),
  reset: (demo) => demo.reset(),
  export: (demo) => exportJson(demo),
  "export-csv": (demo) => exportCsv(demo),
  "copy-link": (demo, button) => { demo.saveToUrl(); copyLink(demo.instance, button); },
  "clear-points": (demo, button) => demo.clearPoints(button.dataset.target),
};

export class Demo {
  constructor(section) {
    this.el = section;
    this.slug = section.dataset.demo;
    this.instance = section.dataset.instance;
    this.live = section.dataset.live === "true";
    this.presets = JSON.parse(section.dataset.presets);
    this.defaults = JSON.parse(section.dataset.defaults);
    this.metricLabels = JSON.parse(section.dataset.metricLabels || "{}");
    this.form = section.querySelector(".demo-controls");
    this.status = section.querySelector(".demo-status");
    this.progress = section.querySelector(".demo-progress");
    this.metrics = section.querySelector(".demo-metrics");
    this.controller = null;
    this.timer = null;
    this.record = null;
    this.charts = {};
    for (const declared of JSON.parse(section.dataset.charts)) {
      const div = section.querySelector(`.plot[data-chart="${declared.id}"]`);
      this.charts[declared.id] = new Chart(div, declared, this.instance);
    }
    this.restoreFromUrl();
    this.wire();
  }

  // ---- controls <-> values ----------------------------------------------------------

  controls() { return Array.from(this.form.querySelectorAll("[name]")); }

  params() {
    return Object.fromEntries(this.controls().map((input) => [input.name, readControl(input)]));
  }

  setValues(values) {
    for (const input of this.controls()) {
      if (input.name in values) writeControl(input, values[input.name]);
    }
    this.applyVisibility();
  }

  applyVisibility() {
    const params = this.params();
    for (const box of this.form.querySelectorAll("[data-show-if]")) {
      const rule = JSON.parse(box.dataset.showIf);
      box.hidden = !Object.keys(rule).every((k) => params[k] === rule[k]);
    }
  }

  saveToUrl() { saveToUrl(this.instance, this.params(), this.presets); }

  restoreFromUrl() {
    const saved = valuesFromUrl(this.instance);
    this.fromUrl = false;
    for (const input of this.controls()) {
      if (saved.has(input.name)) {
        writeControl(input, saved.get(input.name));
        this.fromUrl = true;
      } else {
        refreshControl(input);
      }
    }
    this.applyVisibility();
  }

  clearPoints(name) {
    const input = this.form.querySelector(`[name="${name}"]`);
    writeControl(input, []);
    const chart = this.charts[input.dataset.chart];
    if (chart) chart.clear();
    this.saveToUrl();
  }

  // ---- wiring -----------------------------------------------------------------------

  wire() {
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.run(); });
    this.form.addEventListener("input", (e) => {
      if (!e.target.name) return;
      refreshControl(e.target);
      this.applyVisibility();
    });
    this.form.addEventListener("change", (e) => { if (e.target.name) this.controlChanged(); });
    this.el.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-action]");
      const action = button && ACTIONS[button.dataset.action];
      if (action) action(this, button);
    });
    for (const input of this.controls()) wireControl(input, this);
  }

  controlChanged() {
    this.saveToUrl();
    if (!this.live) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.run(), DEBOUNCE_MS);
  }

  reset() {
    this.setValues(this.defaults);
    this.presets = clone(this.defaults);
    this.saveToUrl();
    this.run();
  }

  relayoutAll() { for (const chart of Object.values(this.charts)) chart.relayout(); }

  // ---- running ----------------------------------------------------------------------

  say(text, kind) {
    this.status.textContent = text;
    this.status.dataset.kind = kind || "";
  }

  setRunning(running) {
    this.el.classList.toggle("running", running);
    this.el.querySelector('[data-action="stop"]').disabled = !running;
  }

  setProgress(fraction) {
    const percent = Math.round(fraction * 100);
    this.progress.setAttribute("aria-valuenow", String(percent));
    this.progress.firstElementChild.style.width = `${percent}%`;
  }

  stop(message) {
    clearTimeout(this.timer);
    if (this.controller) { this.controller.abort(); this.controller = null; }
    // Frames waiting for the next animation frame belong to the run that just ended.
    this.pending = {};
    this.latest = null;
    this.setRunning(false);
    if (message) this.say(message);
  }

  async run() {
    this.stop();
    const controller = new AbortController();
    this.controller = controller;
    const params = this.params();
    this.record = { demo: this.slug, params, frames: 0, metrics: [], result: null };
    this.started = performance.now();
    this.pending = {};
    this.setRunning(true);
    this.setProgress(0);
    this.say("Starting…");
    try {
      const response = await openStream(this.slug, params, controller.signal);
      this.record.cache = response.headers.get("X-Cache");
      await readEventStream(response, (event, data) => {
        if (controller === this.controller) this.handle(event, data); // else a newer run took over
      });
    } catch (error) {
      if (error.name === "AbortError") return;
      this.say(error.message, "error");
    } finally {
      if (controller === this.controller) { this.controller = null; this.setRunning(false); }
    }
  }

  handle(event, data) {
    if (event === "queued") {
      this.say(`Waiting for a free slot: position ${data.position} in the queue…`);
    } else if (event === "frame") {
      this.drawFrame(data);
    } else if (event === "done") {
      this.record.result = data.result;
      this.record.finished = true;
      this.flush();
      this.setProgress(1);
      const seconds = (performance.now() - this.started) / 1000;
      let note = data.stopped === "time_budget" ? " (stopped at the time budget)" : "";
      if (this.record.cache === "hit") note += " · replayed: someone ran exactly this before";
      this.say(`Done: ${data.frames} frames in ${formatValue(Number(seconds.toFixed(2)))} s${note}.`,
               "done");
    } else if (event === "error") {
      // Draw what arrived first: a frame drawn later would put "Running…" over the error.
      this.record.finished = true;
      this.flush();
      this.say(data.message, "error");
    }
  }

  // Ops wait in this.pending (per chart, see ops.js) and are drawn once per animation frame.
  drawFrame(frame) {
    if (this.record.frames === 0) {
      // Every run starts from the traces each chart declares (Chart.traces): a demo's
      // frames may extend them without first sending a frame that only declares them.
      for (const [id, chart] of Object.entries(this.charts)) {
        if (chart.traces.length) this.pending[id] = [{ op: "react", data: clone(chart.traces), layout: {} }];
      }
    }
    this.record.frames += 1;
    if (Object.keys(frame.metrics || {}).length) {
      this.record.metrics.push({ step: frame.step, ...frame.metrics });
    }
    for (const [id, op] of Object.entries(frame.charts || {})) {
      queueOp(this.pending[id] || (this.pending[id] = []), op);
    }
    this.latest = frame;
    if (!this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame(() => this.flush());
    }
  }

  flush() {
    const pending = this.pending || {}, frame = this.latest;
    this.scheduled = false;
    this.pending = {};
    for (const [id, ops] of Object.entries(pending)) {
      const chart = this.charts[id];
      if (chart) for (const op of ops) drawOp(chart, op, this);
    }
    if (!frame) return;
    this.latest = null;
    this.setProgress(frame.progress || 0);
    this.showMetrics(frame.metrics || {});
    if (!this.record.finished) this.say(`Running… step ${frame.step}`);
  }

  showMetrics(metrics) {
    this.metrics.textContent = "";
    for (const [key, value] of Object.entries(metrics)) {
      const box = document.createElement("div");
      const dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = this.metricLabels[key] || key.replace(/_/g, " ");
      dd.textContent = formatValue(value);
      box.append(dt, dd);
      this.metrics.appendChild(box);
    }
  }
}
