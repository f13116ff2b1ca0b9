// One demo on the page. It knows nothing about any particular demo: controls come from the
// server-rendered form (controls.js), charts from data-charts (plotting.js), and frames
// from the stream (stream.js) say what to draw (ops.js).

import { wireControl, writeControl } from "livegrad/controls.js";
import { Compare } from "livegrad/compare.js";
import { wireDataTable } from "livegrad/datatable.js";
import { exportCsv, exportJson, openNotebook } from "livegrad/export.js";
import { t } from "livegrad/i18n.js";
import { MetricChips } from "livegrad/metrics.js";
import { chartStateAt, drawOp, queueOp } from "livegrad/ops.js";
import { Chart } from "livegrad/plotting.js";
import { ControlsForm } from "livegrad/form.js";
import { copyLink } from "livegrad/share.js";
import { Inbox } from "livegrad/inbox.js";
import { clearFieldErrors, pointsHint, showFieldErrors } from "livegrad/refusal.js";
import { openStream, readEventStream } from "livegrad/stream.js";
import { Timeline } from "livegrad/timeline.js";
import { clone, formatValue } from "livegrad/util.js";

const DEBOUNCE_MS = 350;
// A run whose progress says it has at most SHORT_RUN_FRAMES frames shows each for
// SHORT_FRAME_MS at least: a run that ends in a blink still shows every step.
const SHORT_RUN_FRAMES = 5;
const SHORT_FRAME_MS = 400;

// The buttons: data-action="<name>" → what it does.
const ACTIONS = {
  run: (demo) => demo.run(),
  stop: (demo) => demo.stop(t("Stopped.")),
  reset: (demo) => demo.reset(),
  skip: (demo) => demo.run({ pace: "none" }), // the same replay, every frame at once
  export: (demo) => exportJson(demo),
  "export-csv": (demo) => exportCsv(demo),
  notebook: (demo) => openNotebook(demo),
  pause: (demo) => demo.timeline.togglePause(),
  step: (demo) => demo.timeline.step(1),
  "step-back": (demo) => demo.timeline.step(-1),
  pin: (demo) => demo.compare.toggle(),
  "copy-link": (demo, button) => { demo.saveToUrl(); copyLink(demo.instance, button); },
  "clear-points": (demo, button) => demo.clearPoints(button.dataset.target),
};

const sameValues = (a, b) => JSON.stringify(a) === JSON.stringify(b);

export class Demo {
  constructor(section) {
    this.el = section;
    this.slug = section.dataset.demo;
    this.instance = section.dataset.instance;
    this.live = section.dataset.live === "true";
    this.autorun = section.dataset.autorun !== "false";
    this.presets = JSON.parse(section.dataset.presets); // this instance's values in the lesson
    this.defaults = JSON.parse(section.dataset.defaults);
    this.form = section.querySelector(".demo-controls");
    this.status = section.querySelector(".demo-status");
    this.progress = section.querySelector(".demo-progress");
    this.chips = new MetricChips(section.querySelector(".demo-metrics"),
                                 JSON.parse(section.dataset.metricLabels || "{}"));
    this.skipButton = section.querySelector('[data-action="skip"]');
    this.controller = null;
    this.timer = null;
    this.record = null;
    this.shown = null; // the parameters of the run the charts show
    this.settled = [this.live ? t("Runs when you change a control.") : t("Press Run."), ""];
    // Events of the run; a short run's frames each stay SHORT_FRAME_MS on screen.
    this.inbox = new Inbox((event, data) => {
      this.handle(event, data);
      if (event === "frame" && this.isShortRun(data)) this.inbox.hold(SHORT_FRAME_MS);
    });
    this.charts = {};
    for (const declared of JSON.parse(section.dataset.charts)) {
      const div = section.querySelector(`.plot[data-chart="${declared.id}"]`);
      // An empty chart says what fills it; not one the student clicks points onto.
      const clicked = this.form.querySelector(`[data-chart="${declared.id}"]`);
      const placeholder = clicked ? null
        : this.live ? t("Drawn when the demo runs") : t("Press ▶ Run to draw this");
      this.charts[declared.id] = new Chart(div, declared, this.instance, placeholder);
      wireDataTable(this.charts[declared.id], div.closest(".chart").querySelector(".chart-data"));
    }
    this.timeline = new Timeline(this, section.querySelector(".demo-timeline"));
    this.compare = new Compare(this, section.querySelector(".demo-compare"),
                               section.querySelector('[data-action="pin"]'));
    this.values = new ControlsForm(this.form, this.instance, this.presets);
    this.fromUrl = this.values.restoreFromUrl();
    this.wire();
    this.say(...this.settled);
  }

  // ---- controls <-> values (form.js) -----------------------------------------------

  params() { return this.values.params(); }

  setValues(values) { this.values.setValues(values); }

  saveToUrl() { this.values.saveToUrl(); }

  clearPoints(name) {
    const input = this.form.querySelector(`[name="${name}"]`);
    writeControl(input, []);
    const chart = this.charts[input.dataset.chart];
    if (chart) chart.clear();
    this.controlChanged();
  }

  // ---- wiring -----------------------------------------------------------------------

  wire() {
    this.form.addEventListener("submit", (e) => { e.preventDefault(); this.run(); });
    // Enter in any box runs (a form with several boxes and no submit button would not).
    this.form.addEventListener("keydown", (e) => {
      if (e.key !== "Enter" || e.isComposing || e.target.tagName !== "INPUT") return;
      e.preventDefault();
      this.run();
    });
    this.form.addEventListener("input", (e) => { if (e.target.name) this.values.moved(e.target); });
    this.form.addEventListener("change", (e) => { if (e.target.name) this.controlChanged(); });
    this.el.addEventListener("click", (e) => {
      const button = e.target.closest("button[data-action]");
      const action = button && ACTIONS[button.dataset.action];
      if (action) action(this, button);
    });
    for (const input of this.values.controls()) wireControl(input, this);
  }

  controlChanged() {
    this.saveToUrl();
    clearFieldErrors(this.form);
    this.markOutOfDate();
    // A live demo reruns, unless the values are those its latest run already had.
    if (!this.live || (this.record && sameValues(this.record.params, this.params()))) return;
    clearTimeout(this.timer);
    // ... or while a control another one limits lacks what it needs (its note says what;
    // Run still sends, and the server refuses with the same words).
    const unmet = this.values.unmet();
    if (unmet) {
      this.say(t("Not run: {field} {problem}", unmet), "hint");
      return;
    }
    this.timer = setTimeout(() => this.run(), DEBOUNCE_MS);
  }

  // Back to this instance's values in the lesson (data-presets), not the demo's defaults.
  reset() {
    this.setValues(this.presets);
    this.controlChanged();
  }

  relayoutAll() { for (const chart of Object.values(this.charts)) chart.relayout(); }

  // ---- running ----------------------------------------------------------------------

  say(text, kind) {
    this.status.textContent = text;
    this.status.dataset.kind = kind || "";
  }

  // What the status line says once a run is over (or before any): kept, so that moving a
  // control back to the run's values brings it back.
  settle(text, kind) {
    this.settled = [text, kind];
    this.markOutOfDate();
  }

  // Charts that show a run of other values than the controls hold are dimmed and say so.
  markOutOfDate() {
    const stale = this.shown !== null && !sameValues(this.shown, this.params());
    this.el.classList.toggle("stale", stale);
    if (this.running()) return; // "Running… step n" says it all
    if (!stale) this.say(...this.settled);
    else if (this.live) this.say(t("Out of date: the controls changed; it runs again in a moment…"), "stale");
    else this.say(t("Out of date: the controls changed since this run. Press Run."), "stale");
  }

  // A 422: say what is wrong on the field, dim what the last run drew.
  refuse(error) {
    this.el.classList.toggle("stale", this.shown !== null);
    const hint = pointsHint(error.detail);
    if (hint) {
      this.say(hint, "hint");
      return;
    }
    showFieldErrors(this.form, error.detail);
    // A sentence ends with the full stop of the page's language ("。" in Chinese).
    const reason = error.message.replace(/([^.。])$/, (_, last) => last + t("."));
    this.say(this.shown ? t("Not run: {reason} The dimmed charts are from the last run.", { reason })
      : t("Not run: {reason}", { reason }), "error");
  }

  running() { return this.el.classList.contains("running"); }

  setRunning(running) {
    this.el.classList.toggle("running", running);
    this.el.querySelector('[data-action="stop"]').disabled = !running;
    if (!running && this.skipButton) this.skipButton.hidden = true;
  }

  setProgress(fraction) {
    const percent = Math.round(fraction * 100);
    this.progress.setAttribute("aria-valuenow", String(percent));
    this.progress.firstElementChild.style.width = `${percent}%`;
  }

  stop(message) {
    clearTimeout(this.timer);
    this.retrying = false;
    if (this.controller) { this.controller.abort(); this.controller = null; }
    // Frames waiting for their turn belong to the run that just ended.
    this.pending = {};
    this.pendingMetrics = {};
    this.latest = null;
    this.inbox.clear();
    this.setRunning(false);
    this.compare.update();
    if (message) this.settle(message);
  }

  // `pace: "none"` asks the server for every event at once (a replay's "Skip to end").
  async run({ pace } = {}) {
    this.stop();
    clearFieldErrors(this.form);
    this.saveToUrl(); // the link holds what is sent
    const controller = new AbortController();
    this.controller = controller;
    const params = this.params();
    this.record = { demo: this.slug, params, frames: 0, drawn: 0, metrics: [], result: null };
    this.skipping = pace === "none";
    this.started = performance.now();
    this.pending = {};
    this.setRunning(true);
    this.setProgress(0);
    this.say(this.skipping ? t("Skipping to the end…") : t("Starting…"));
    try {
      const response = await openStream(this.slug, params, controller.signal, pace);
      this.record.cache = response.headers.get("X-Cache");
      if (this.skipButton) this.skipButton.hidden = this.record.cache !== "hit" || this.skipping;
      this.compare.update();
      await readEventStream(response, (event, data) => {
        if (controller === this.controller) this.inbox.push(event, data); // else a newer run took over
      });
    } catch (error) {
      if (error.name === "AbortError") return;
      if (error.status === 422) this.refuse(error);
      else if (error.status === 429 && error.retryAfter) this.retryLater(error, pace);
      else this.say(error.message, "error");
    } finally {
      if (controller === this.controller) {
        this.controller = null;
        // Not while frames still show, nor while a refused run waits to try again.
        if (!this.inbox.length && !this.retrying) this.setRunning(false);
      }
    }
  }

  // A 429 (every slot busy and the queue full, or this browser over its rate): try again by
  // itself when the server says, counting down; Stop cancels. A little random extra time
  // keeps a class refused together from coming back in the same instant.
  retryLater(error, pace) {
    const seconds = error.retryAfter + Math.random() * Math.min(3, 0.3 * error.retryAfter);
    const due = performance.now() + seconds * 1000;
    const reason = error.reason.replace(/[;；].*$/, "");  // the server's "; try again in…"
    this.retrying = true;
    const tick = () => {
      const left = due - performance.now();
      if (left <= 0) { this.retrying = false; this.run({ pace }); return; }
      this.say(t("Busy: {reason}. Trying again by itself in {seconds} s…",
        { reason, seconds: Math.ceil(left / 1000) }), "hint");
      this.timer = setTimeout(tick, Math.min(1000, left));
    };
    tick();
  }

  isShortRun(frame) {
    return !this.skipping && frame.progress > 0 && this.record.frames / frame.progress <= SHORT_RUN_FRAMES;
  }

  handle(event, data) {
    const replay = this.record.cache === "hit";
    if (event === "queued") {
      this.say(data.seconds
        ? t("Waiting for a free slot: number {position} in the queue, about {seconds} s…", data)
        : t("Waiting for a free slot: number {position} in the queue…", data));
    } else if (event === "frame") {
      this.record.frames += 1;
      if (Object.keys(data.metrics || {}).length) {
        this.record.metrics.push({ step: data.step, ...data.metrics });
      }
      if (this.record.frames === 1) this.firstFrame();
      this.timeline.add(data);
    } else if (event === "done") {
      this.record.result = data.result;
      this.record.finished = true;
      this.flush();
      this.setProgress(1);
      this.setRunning(false);
      const seconds = (performance.now() - this.started) / 1000;
      let note = data.stopped === "time_budget" ? " " + t("(stopped at the time budget)") : "";
      if (replay) {
        note += " · " + (this.skipping ? t("replayed from cache, skipped to the end") : t("replayed from cache"));
      }
      if (this.record.cache === "shared") note += " · " + t("joined an identical run already in progress");
      this.compare.update();
      const frames = data.frames === 1 ? t("1 frame") : t("{n} frames", { n: data.frames });
      this.settle(t("Done: {frames} in {seconds} s{note}.",
                    { frames, seconds: formatValue(Number(seconds.toFixed(2))), note }), "done");
    } else if (event === "error") {
      // Draw what arrived first: a frame drawn later would put "Running…" over the error.
      this.record.finished = true;
      this.flush();
      this.setRunning(false);
      this.settle(data.message, "error");
    }
  }

  // The charts now show this run: no longer dimmed, its own frames and numbers only.
  firstFrame() {
    this.shown = this.record.params;
    this.el.classList.remove("stale");
    this.chips.clear();
    this.timeline.reset();
    this.compare.update(); // the ghosts' legend names what differs from this run
    // Every run starts from the traces each chart declares (Chart.traces): a demo's
    // frames may extend them without first sending a frame that only declares them.
    for (const [id, chart] of Object.entries(this.charts)) {
      chart.placeholder = null;
      if (chart.traces.length || chart.ghosts.length) {
        this.pending[id] = [{ op: "react", data: clone(chart.traces), layout: {} }];
      }
    }
  }

  // Redraw every chart as it was after frames[0..index] (the timeline's scrubber).
  showAt(index) {
    const frames = this.timeline.frames;
    this.pending = {};
    this.pendingMetrics = {};
    this.latest = null;
    for (const [id, chart] of Object.entries(this.charts)) {
      chart.show(chartStateAt(frames, id, chart.traces, index));
    }
    for (const frame of frames.slice(0, index + 1)) this.chips.learn(frame.metric_labels);
    this.chips.showAt(frames, index);
    this.setProgress(frames[index].progress || 0);
  }

  // One more frame on what the charts show. Ops wait in this.pending (per chart, see
  // ops.js) and are drawn once per animation frame.
  drawFrame(frame) {
    for (const [id, op] of Object.entries(frame.charts || {})) {
      queueOp(this.pending[id] || (this.pending[id] = []), op);
    }
    // Every frame's metrics reach the chips, also of frames drawn in one go; a page in another
    // language than English gets the words for their names with them (metric_labels).
    this.chips.learn(frame.metric_labels);
    this.pendingMetrics = { ...(this.pendingMetrics || {}), ...(frame.metrics || {}) };
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
    this.record.drawn += 1;
    this.setProgress(frame.progress || 0);
    this.chips.show(this.pendingMetrics);
    this.pendingMetrics = {};
    if (this.record.finished) return;
    const step = { step: frame.step };
    if (this.record.cache === "hit") this.say(t("Replayed from cache… step {step}", step));
    else if (this.record.cache === "shared") this.say(t("Joined an identical run… step {step}", step));
    else this.say(t("Running… step {step}", step));
  }
}
