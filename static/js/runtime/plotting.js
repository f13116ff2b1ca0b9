// One Plotly chart of a demo: the layout it declares (app/demos/charts.py), in the page's theme.

import { t } from "livegrad/i18n.js";
import { clone, merge } from "livegrad/util.js";

export const COLORWAY = ["#3b82f6", "#f97316", "#10b981", "#ef4444", "#8b5cf6", "#eab308",
                  "#06b6d4", "#ec4899", "#84cc16", "#6366f1", "#14b8a6", "#a16207"];

const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

// Colours and fonts from the page's CSS, read anew on every draw: the theme may have changed.
function themeLayout() {
  const grid = cssVar("--chart-grid") || "#e5e7eb";
  const axis = { gridcolor: grid, zerolinecolor: grid, linecolor: grid };
  return {
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { color: cssVar("--fg") || "#222", family: cssVar("--font-sans") || "sans-serif" },
    xaxis: clone(axis), yaxis: clone(axis),
    legend: { bgcolor: "rgba(0,0,0,0)" },
    colorway: COLORWAY,
  };
}

// On a phone Plotly's tool bar never hides (no hover) and covers the top of the chart:
// there, no tool bar (Export and the data table still give the numbers).
const PHONE = "(max-width: 560px)";

// Plotly's own words (its tool bar's titles, its hints), in the page's language: a Plotly
// locale whose dictionary is the runtime's messages. English pages keep Plotly's English.
function plotlyWords() {
  return {
    "Download plot as a PNG": t("Download plot as a PNG"),
    "Download plot": t("Download plot"),
    Zoom: t("Zoom"),
    Pan: t("Pan"),
    "Zoom in": t("Zoom in"),
    "Zoom out": t("Zoom out"),
    Autoscale: t("Autoscale"),
    "Reset axes": t("Reset axes"),
    "Box Select": t("Box Select"),
    "Lasso Select": t("Lasso Select"),
    "Toggle Spike Lines": t("Toggle Spike Lines"),
    "Show closest data on hover": t("Show closest data on hover"),
    "Compare data on hover": t("Compare data on hover"),
    "Toggle show closest data on hover": t("Toggle show closest data on hover"),
    "Double-click to zoom back out": t("Double-click to zoom back out"),
    "Double-click on legend to isolate one trace": t("Double-click on legend to isolate one trace"),
    "Taking snapshot - this may take a few seconds": t("Taking snapshot - this may take a few seconds"),
    "Snapshot succeeded": t("Snapshot succeeded"),
    "Sorry, there was a problem downloading your snapshot!":
      t("Sorry, there was a problem downloading your snapshot!"),
  };
}

function plotConfig(instance) {
  const config = {
    responsive: true, displaylogo: false,
    displayModeBar: window.matchMedia(PHONE).matches ? false : "hover",
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
    toImageButtonOptions: { filename: `livegrad-${instance}`, scale: 2 },
  };
  const lang = document.documentElement.lang || "en";
  if (lang !== "en") {
    config.locale = lang;
    config.locales = { [lang]: { dictionary: plotlyWords() } };
  }
  return config;
}

// Plotly's mode-bar buttons are links without an href: no keyboard, no name for a screen
// reader. Each becomes a named button reachable with Tab (Enter or Space presses it).
function labelModebar(div) {
  for (const a of div.querySelectorAll(".modebar-btn:not([role])")) {
    a.setAttribute("role", "button");
    a.setAttribute("tabindex", "0");
    a.setAttribute("aria-label", a.getAttribute("data-title") || t("chart tool"));
    a.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); a.click(); }
    });
  }
}

export class Chart {
  // `declared` is the chart as the server declares it: {id, layout, traces}. Its traces
  // are drawn at once, so the legend and axes show before Run.
  // `placeholder` is what an empty chart says before the first run ("Press ▶ Run …").
  constructor(div, declared, instance, placeholder) {
    this.div = div;
    this.layout = declared.layout || {};
    this.traces = declared.traces || [];
    const drawn = this.traces.some((trace) => ["x", "y", "z"].some((k) => trace[k] && trace[k].length));
    this.placeholder = drawn ? null : placeholder; // null once a run draws
    this.ghosts = []; // a pinned run's traces, drawn faint behind this run's (compare.js)
    this.ready = Plotly.newPlot(div, clone(this.traces), this.layoutWith({}), plotConfig(instance))
      .then(() => {
        labelModebar(div);
        div.on("plotly_afterplot", () => labelModebar(div));
      });
  }

  // A run's traces, then the pinned run's ghosts: appended after, so the run's trace
  // indices (which extend ops address) and colours stay as they are.
  withGhosts(data) { return this.ghosts.length ? data.concat(clone(this.ghosts)) : data; }

  // Draw a state of chartStateAt (ops.js): the chart as of one frame of a run.
  show(state) { Plotly.react(this.div, this.withGhosts(state.data), this.layoutWith(state.layout)); }

  // The theme, then the declared layout, then `extra` (an op's layout), deep-merged. The
  // op's layout is kept, so a theme change redraws the chart as the op drew it.
  layoutWith(extra) {
    this.opLayout = extra || {};
    const theme = themeLayout();
    const panelAxis = clone(theme.xaxis); // before the merges below fill theme.xaxis in
    const base = merge(theme, { margin: { l: 48, r: 16, t: 16, b: 40 }, uirevision: "keep" });
    const layout = merge(merge(base, clone(this.layout)), clone(extra || {}));
    // A chart that says how tall it is gets a box that tall (else it spills over what is
    // under it on a phone, where boxes are shorter).
    this.div.style.height = layout.height ? `${layout.height}px` : "";
    if (this.placeholder) { // a line saying what fills it; with nothing declared, no axes
      if (!this.traces.length) {     // of made-up ranges either
        layout.xaxis = { ...layout.xaxis, visible: false };
        layout.yaxis = { ...layout.yaxis, visible: false };
      }
      layout.annotations = [{ text: this.placeholder, showarrow: false, xref: "paper",
        yref: "paper", x: 0.5, y: 0.5, font: { size: 14, color: cssVar("--fg-muted") || "#666" } }];
    }
    // Panels (xaxis2, yaxis3, …) take the theme's grid too, under what they set themselves.
    for (const key of Object.keys(layout)) {
      if (/^[xy]axis\d+$/.test(key)) layout[key] = merge(clone(panelAxis), layout[key]);
    }
    return layout;
  }

  clear() { Plotly.react(this.div, this.withGhosts([]), this.layoutWith({})); }

  // A new theme: the same traces and op layout (its tick labels, height, legend) in new colours.
  relayout() { if (this.div.data) Plotly.react(this.div, this.div.data, this.layoutWith(this.opLayout)); }
}
