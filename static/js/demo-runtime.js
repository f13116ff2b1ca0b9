// The one generic runtime for every LiveGrad demo. It knows nothing about any demo:
// controls come from the server-rendered form, charts from data-charts, and frames
// from the stream tell it what to draw ({op: "react"} or {op: "extend"}).
(function () {
  "use strict";

  var DEBOUNCE_MS = 350;

  // ---- small helpers -------------------------------------------------------------

  function isObject(v) { return v && typeof v === "object" && !Array.isArray(v); }

  function merge(target, source) {
    Object.keys(source || {}).forEach(function (key) {
      if (isObject(source[key]) && isObject(target[key])) merge(target[key], source[key]);
      else target[key] = source[key];
    });
    return target;
  }

  function clone(v) { return JSON.parse(JSON.stringify(v)); }

  function cssVar(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }

  function themeLayout() {
    var grid = cssVar("--chart-grid") || "#e5e7eb";
    var axis = { gridcolor: grid, zerolinecolor: grid, linecolor: grid };
    return {
      paper_bgcolor: "rgba(0,0,0,0)",
      plot_bgcolor: "rgba(0,0,0,0)",
      font: { color: cssVar("--fg") || "#222", family: cssVar("--font-sans") || "sans-serif" },
      xaxis: clone(axis), yaxis: clone(axis),
      legend: { bgcolor: "rgba(0,0,0,0)" },
      colorway: ["#3b82f6", "#f97316", "#10b981", "#ef4444", "#8b5cf6", "#eab308",
                 "#06b6d4", "#ec4899", "#84cc16", "#6366f1", "#14b8a6", "#a16207"],
    };
  }

  function formatValue(v) {
    if (typeof v !== "number") return String(v);
    if (Number.isInteger(v)) return v.toLocaleString("en");
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(3);
    return v.toPrecision(4).replace(/\.?0+$/, "");
  }

  function download(name, type, text) {
    var url = URL.createObjectURL(new Blob([text], { type: type }));
    var a = document.createElement("a");
    a.href = url; a.download = name;
    document.body.appendChild(a); a.click(); a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  // Parse a text/event-stream body incrementally: calls onEvent(name, data).
  async function readEventStream(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    for (;;) {
      var chunk = await reader.read();
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
      var boundary;
      while ((boundary = buffer.indexOf("\n\n")) >= 0) {
        var block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        var name = "message", data = [];
        block.split("\n").forEach(function (line) {
          if (line.startsWith(":")) return; // keep-alive comment
          var colon = line.indexOf(":");
          var field = colon < 0 ? line : line.slice(0, colon);
          var value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") name = value;
          else if (field === "data") data.push(value);
        });
        if (data.length) onEvent(name, JSON.parse(data.join("\n")));
      }
    }
  }

  function errorText(status, body) {
    var detail = body && body.detail;
    if (Array.isArray(detail)) {
      return detail.map(function (d) { return d.message || d.msg || JSON.stringify(d); }).join("; ");
    }
    if (typeof detail === "string") return detail;
    return "The server answered " + status + ".";
  }

  // ---- one demo on the page ------------------------------------------------------

  function Demo(section) {
    this.el = section;
    this.slug = section.dataset.demo;
    this.instance = section.dataset.instance;
    this.live = section.dataset.live === "true";
    this.presets = JSON.parse(section.dataset.presets);
    this.defaults = JSON.parse(section.dataset.defaults);
    this.metricLabels = JSON.parse(section.dataset.metricLabels || "{}");
    this.charts = {};
    this.form = section.querySelector(".demo-controls");
    this.status = section.querySelector(".demo-status");
    this.progress = section.querySelector(".demo-progress");
    this.metrics = section.querySelector(".demo-metrics");
    this.controller = null;
    this.timer = null;
    this.record = null;
    var self = this;
    JSON.parse(section.dataset.charts).forEach(function (chart) {
      var div = section.querySelector('.plot[data-chart="' + chart.id + '"]');
      self.charts[chart.id] = { div: div, layout: chart.layout || {}, traces: chart.traces || [] };
      Plotly.newPlot(div, clone(self.charts[chart.id].traces), self.layoutFor(chart.id, {}),
                     self.plotConfig());
    });
    this.restoreFromUrl();
    this.wire();
  }

  Demo.prototype.plotConfig = function () {
    return {
      responsive: true, displaylogo: false,
      modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
      toImageButtonOptions: { filename: "livegrad-" + this.instance, scale: 2 },
    };
  };

  Demo.prototype.layoutFor = function (chartId, extra) {
    var base = merge(themeLayout(), { margin: { l: 48, r: 16, t: 16, b: 40 }, uirevision: "keep" });
    return merge(merge(base, clone(this.charts[chartId].layout)), clone(extra || {}));
  };

  // Controls <-> values ------------------------------------------------------------

  Demo.prototype.controls = function () {
    return Array.prototype.slice.call(this.form.querySelectorAll("[name]"));
  };

  // A log-scale slider moves over log10(value); the parameter is 10^position.
  function fromLog(position) { return Number(Math.pow(10, Number(position)).toPrecision(3)); }

  Demo.prototype.readValue = function (input) {
    var type = input.dataset.type;
    if (input.dataset.scale === "log") return fromLog(input.value);
    if (type === "boolean") return input.checked;
    if (type === "number") return Number(input.value);
    if (type === "json") return JSON.parse(input.value || "null");
    return input.value;
  };

  Demo.prototype.writeValue = function (input, value) {
    if (input.dataset.type === "boolean") input.checked = value === true || value === "true";
    else if (input.dataset.type === "json") input.value = typeof value === "string" ? value : JSON.stringify(value);
    else if (input.dataset.scale === "log") input.value = Math.log10(Number(value));
    else input.value = value;
    this.refreshControl(input);
  };

  Demo.prototype.refreshControl = function (input) {
    var out = this.form.querySelector('output[for="' + input.id + '"]');
    if (out) out.textContent = formatValue(this.readValue(input));
    if (input.type === "range") {
      input.setAttribute("aria-valuetext", input.name + " " + formatValue(this.readValue(input)));
    }
    if (input.dataset.type === "json") {
      var count = input.parentElement.querySelector(".points-count");
      if (count) count.textContent = (this.readValue(input) || []).length + " points";
    }
  };

  Demo.prototype.params = function () {
    var self = this, params = {};
    this.controls().forEach(function (input) { params[input.name] = self.readValue(input); });
    return params;
  };

  Demo.prototype.applyVisibility = function () {
    var params = this.params();
    this.form.querySelectorAll("[data-show-if]").forEach(function (box) {
      var rule = JSON.parse(box.dataset.showIf);
      box.hidden = !Object.keys(rule).every(function (k) { return params[k] === rule[k]; });
    });
  };

  // The page URL holds every non-default value as ?<instance>.<param>=value.
  Demo.prototype.saveToUrl = function () {
    var url = new URL(window.location.href);
    var prefix = this.instance + ".";
    Array.from(url.searchParams.keys()).forEach(function (key) {
      if (key.startsWith(prefix)) url.searchParams.delete(key);
    });
    var params = this.params(), presets = this.presets;
    Object.keys(params).forEach(function (name) {
      var value = params[name];
      if (Array.isArray(value)) return; // clicked points are too long for a link
      if (JSON.stringify(value) !== JSON.stringify(presets[name])) {
        url.searchParams.set(prefix + name, String(value));
      }
    });
    history.replaceState(history.state, "", url);
  };

  Demo.prototype.restoreFromUrl = function () {
    var self = this, query = new URLSearchParams(window.location.search), found = false;
    this.controls().forEach(function (input) {
      var key = self.instance + "." + input.name;
      if (query.has(key)) { self.writeValue(input, query.get(key)); found = true; }
      else self.refreshControl(input);
    });
    this.fromUrl = found;
    this.applyVisibility();
  };

  Demo.prototype.setValues = function (values) {
    var self = this;
    this.controls().forEach(function (input) {
      if (input.name in values) self.writeValue(input, values[input.name]);
    });
    this.applyVisibility();
  };

  // Wiring --------------------------------------------------------------------------

  Demo.prototype.wire = function () {
    var self = this;
    this.form.addEventListener("submit", function (e) { e.preventDefault(); self.run(); });
    this.form.addEventListener("input", function (e) {
      if (!e.target.name) return;
      self.refreshControl(e.target);
      self.applyVisibility();
    });
    this.form.addEventListener("change", function (e) {
      if (!e.target.name) return;
      self.controlChanged();
    });
    this.el.addEventListener("click", function (e) {
      var button = e.target.closest("button[data-action]");
      if (!button) return;
      var action = button.dataset.action;
      if (action === "run") self.run();
      else if (action === "stop") self.stop("Stopped.");
      else if (action === "reset") self.reset();
      else if (action === "export") self.exportJson();
      else if (action === "export-csv") self.exportCsv();
      else if (action === "copy-link") self.copyLink(button);
      else if (action === "clear-points") self.clearPoints(button.dataset.target);
    });
    this.form.querySelectorAll('input[data-type="json"][data-chart]').forEach(function (input) {
      var chart = self.charts[input.dataset.chart];
      if (chart) chart.div.addEventListener("click", function (e) { self.addPoint(input, chart.div, e); });
    });
  };

  Demo.prototype.controlChanged = function () {
    this.saveToUrl();
    if (!this.live) return;
    clearTimeout(this.timer);
    var self = this;
    this.timer = setTimeout(function () { self.run(); }, DEBOUNCE_MS);
  };

  Demo.prototype.reset = function () {
    this.setValues(this.defaults);
    this.presets = clone(this.defaults);
    this.saveToUrl();
    this.run();
  };

  Demo.prototype.addPoint = function (input, div, event) {
    var layout = div._fullLayout;
    if (!layout || !layout.xaxis) return;
    var rect = div.getBoundingClientRect(), size = layout._size;
    var px = event.clientX - rect.left - size.l, py = event.clientY - rect.top - size.t;
    if (px < 0 || py < 0 || px > size.w || py > size.h) return;
    var points = this.readValue(input) || [];
    if (points.length >= Number(input.dataset.maxItems)) {
      this.say("At most " + input.dataset.maxItems + " points.");
      return;
    }
    var x = layout.xaxis.p2d(px), y = layout.yaxis.p2d(py);
    points.push([Math.round(x * 1000) / 1000, Math.round(y * 1000) / 1000]);
    this.writeValue(input, points);
    this.setValues(JSON.parse(input.dataset.activates || "{}"));
    Plotly.react(div, [{ x: points.map(function (p) { return p[0]; }),
      y: points.map(function (p) { return p[1]; }), mode: "markers", type: "scatter",
      name: "your points", marker: { size: 8 } }],
      Object.assign({}, div.layout, { showlegend: true })); // same axes and plot area as clicked
    this.controlChanged();
  };

  Demo.prototype.clearPoints = function (name) {
    var input = this.form.querySelector('[name="' + name + '"]');
    this.writeValue(input, []);
    var chart = this.charts[input.dataset.chart];
    if (chart) Plotly.react(chart.div, [], this.layoutFor(input.dataset.chart, {}));
    this.saveToUrl();
  };

  // Running ---------------------------------------------------------------------------

  Demo.prototype.say = function (text, kind) {
    this.status.textContent = text;
    this.status.dataset.kind = kind || "";
  };

  Demo.prototype.setRunning = function (running) {
    this.el.classList.toggle("running", running);
    this.el.querySelector('[data-action="stop"]').disabled = !running;
  };

  Demo.prototype.setProgress = function (fraction) {
    var percent = Math.round(fraction * 100);
    this.progress.setAttribute("aria-valuenow", String(percent));
    this.progress.firstElementChild.style.width = percent + "%";
  };

  Demo.prototype.stop = function (message) {
    clearTimeout(this.timer);
    if (this.controller) { this.controller.abort(); this.controller = null; }
    // Frames waiting for the next animation frame belong to the run that just ended.
    this.pending = {};
    this.latest = null;
    this.setRunning(false);
    if (message) this.say(message);
  };

  Demo.prototype.run = async function () {
    this.stop();
    var controller = new AbortController();
    this.controller = controller;
    var params = this.params();
    this.record = { demo: this.slug, params: params, frames: 0, metrics: [], result: null };
    this.started = performance.now();
    this.pending = {};
    this.setRunning(true);
    this.setProgress(0);
    this.say("Starting…");
    var self = this;
    try {
      var response = await fetch("/api/demos/" + this.slug + "/stream", {
        method: "POST", signal: controller.signal,
        headers: { "Content-Type": "application/json", Accept: "text/event-stream" },
        body: JSON.stringify(params),
      });
      if (!response.ok) {
        var body = await response.json().catch(function () { return null; });
        var wait = response.headers.get("Retry-After");
        throw new Error(errorText(response.status, body) + (wait ? " Retry in " + wait + " s." : ""));
      }
      this.record.cache = response.headers.get("X-Cache");
      await readEventStream(response, function (event, data) {
        if (controller !== self.controller) return; // a newer run took over
        self.handle(event, data);
      });
    } catch (error) {
      if (error.name === "AbortError") return;
      this.say(error.message, "error");
    } finally {
      if (controller === this.controller) { this.controller = null; this.setRunning(false); }
    }
  };

  Demo.prototype.handle = function (event, data) {
    if (event === "queued") {
      this.say("Waiting for a free slot: position " + data.position + " in the queue…");
    } else if (event === "frame") {
      this.drawFrame(data);
    } else if (event === "done") {
      this.record.result = data.result;
      this.record.finished = true;
      this.flush();
      this.setProgress(1);
      var seconds = (performance.now() - this.started) / 1000;
      var note = data.stopped === "time_budget" ? " (stopped at the time budget)" : "";
      if (this.record.cache === "hit") note += " · replayed: someone ran exactly this before";
      this.say("Done: " + data.frames + " frames in " + formatValue(Number(seconds.toFixed(2))) +
               " s" + note + ".", "done");
    } else if (event === "error") {
      // Draw what arrived first: a frame drawn later would put "Running…" over the error.
      this.record.finished = true;
      this.flush();
      this.say(data.message, "error");
    }
  };

  // Frames can arrive faster than a browser draws big charts. Drawing happens at most
  // once per animation frame: a redraw ("react") makes earlier pending ops for that
  // chart moot, appended points ("extend") are all kept, in order.
  Demo.prototype.drawFrame = function (frame) {
    var self = this;
    if (this.record.frames === 0) {
      // Every run starts from the traces each chart declares (Chart.traces): a demo's
      // frames may extend them without first sending a frame that only declares them.
      Object.keys(this.charts).forEach(function (id) {
        var declared = self.charts[id].traces;
        if (declared.length) self.pending[id] = [{ op: "react", data: clone(declared), layout: {} }];
      });
    }
    this.record.frames += 1;
    if (Object.keys(frame.metrics || {}).length) {
      this.record.metrics.push(Object.assign({ step: frame.step }, frame.metrics));
    }
    Object.keys(frame.charts || {}).forEach(function (id) {
      var op = frame.charts[id];
      var queue = self.pending[id] || (self.pending[id] = []);
      if (op.op === "react" || op.op === "animate") queue.length = 0;
      var last = queue[queue.length - 1];
      if (op.op === "extend" && last && last.op === "extend" &&
          String(last.traces) === String(op.traces) && last.max_points === op.max_points) {
        // Every extendTraces redraws the chart: merge appends that wait for one draw.
        last.x = last.x.map(function (xs, i) { return xs.concat(op.x[i]); });
        last.y = last.y.map(function (ys, i) { return ys.concat(op.y[i]); });
      } else {
        queue.push(op.op === "extend" ? clone(op) : op);
      }
    });
    this.latest = frame;
    if (!this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame(function () { self.flush(); });
    }
  };

  Demo.prototype.flush = function () {
    var self = this, pending = this.pending || {}, frame = this.latest;
    this.scheduled = false;
    this.pending = {};
    Object.keys(pending).forEach(function (id) {
      var chart = self.charts[id];
      if (!chart) return;
      pending[id].forEach(function (op) {
        if (op.op === "react") Plotly.react(chart.div, op.data, self.layoutFor(id, op.layout));
        else if (op.op === "extend") {
          Plotly.extendTraces(chart.div, { x: op.x, y: op.y }, op.traces, op.max_points);
        } else if (op.op === "animate") self.animate(chart.div, id, op);
      });
    });
    if (!frame) return;
    this.latest = null;
    this.setProgress(frame.progress || 0);
    this.showMetrics(frame.metrics || {});
    if (!this.record.finished) this.say("Running… step " + frame.step);
  };

  // Plays a short sequence of traces (e.g. a learned policy acting) in the page.
  Demo.prototype.animate = function (div, chartId, op) {
    var self = this;
    Plotly.react(div, op.data, this.layoutFor(chartId, op.layout)).then(function () {
      var frames = op.frames.map(function (traces, i) { return { name: String(i), data: traces }; });
      return Plotly.addFrames(div, frames).then(function () {
        return Plotly.animate(div, null, {
          mode: "immediate", frame: { duration: op.frame_ms, redraw: false },
          transition: { duration: 0 },
        });
      });
    }).catch(function () { /* a newer frame replaced the chart mid-animation */ });
    self.record.animated = (self.record.animated || 0) + 1;
  };

  Demo.prototype.showMetrics = function (metrics) {
    var dl = this.metrics, labels = this.metricLabels;
    dl.textContent = "";
    Object.keys(metrics).forEach(function (key) {
      var box = document.createElement("div");
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = labels[key] || key.replace(/_/g, " ");
      dd.textContent = formatValue(metrics[key]);
      box.append(dt, dd);
      dl.appendChild(box);
    });
  };

  // Sharing and export ----------------------------------------------------------------

  Demo.prototype.chartData = function () {
    var self = this, out = {};
    Object.keys(this.charts).forEach(function (id) {
      out[id] = (self.charts[id].div.data || []).map(function (t) {
        var trace = { name: t.name || "", type: t.type || "scatter" };
        ["x", "y", "z", "text"].forEach(function (k) { if (t[k] !== undefined) trace[k] = t[k]; });
        return trace;
      });
    });
    return out;
  };

  Demo.prototype.exportJson = function () {
    var data = Object.assign({}, this.record || { demo: this.slug, params: this.params() },
      { charts: this.chartData(), exported_at: new Date().toISOString() });
    download("livegrad-" + this.instance + ".json", "application/json", JSON.stringify(data, null, 2));
  };

  Demo.prototype.exportCsv = function () {
    var rows = [["chart", "trace", "index", "x", "y"]], charts = this.chartData();
    Object.keys(charts).forEach(function (id) {
      charts[id].forEach(function (trace) {
        if (!Array.isArray(trace.x) || !Array.isArray(trace.y) || trace.z) return;
        trace.y.forEach(function (y, i) { rows.push([id, trace.name, i, trace.x[i], y]); });
      });
    });
    var csv = rows.map(function (r) {
      return r.map(function (cell) {
        var s = cell === undefined || cell === null ? "" : String(cell);
        return /[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
      }).join(",");
    }).join("\n");
    download("livegrad-" + this.instance + ".csv", "text/csv", csv + "\n");
  };

  Demo.prototype.copyLink = function (button) {
    this.saveToUrl();
    var url = window.location.href.split("#")[0] + "#demo-" + this.instance;
    var done = function () { button.textContent = "✓ Link copied"; setTimeout(function () { button.textContent = "Copy link"; }, 1800); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(done, function () { window.prompt("Copy this link:", url); });
    } else {
      window.prompt("Copy this link:", url);
    }
  };

  Demo.prototype.relayoutAll = function () {
    var self = this;
    Object.keys(this.charts).forEach(function (id) {
      var div = self.charts[id].div;
      if (div.data) Plotly.relayout(div, self.layoutFor(id, {}));
    });
  };

  // ---- boot --------------------------------------------------------------------------

  function boot() {
    var demos = Array.prototype.map.call(document.querySelectorAll("[data-demo]"), function (el) {
      var demo = new Demo(el);
      el.livegrad = demo; // handy for tests and the console
      return demo;
    });
    document.addEventListener("livegrad:theme", function () {
      demos.forEach(function (d) { d.relayoutAll(); });
    });
    // A shared link reruns its computation at once; live demos run when first seen.
    var seen = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        seen.unobserve(entry.target);
        var demo = entry.target.livegrad;
        if (demo.live && !demo.record) demo.run();
      });
    }, { rootMargin: "200px" }) : null;
    demos.forEach(function (demo) {
      if (demo.fromUrl) demo.run();
      else if (seen) seen.observe(demo.el);
    });
  }

  document.addEventListener("DOMContentLoaded", boot);
})();
