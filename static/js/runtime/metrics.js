// A run's metric chips ("loss 0.4132", "restart 2"): one per metric name, in order of
// first appearance. A frame's metrics update their chips; a chip a frame does not mention
// keeps its last value, so the final numbers stay when a run's last frame says less.

import { t } from "livegrad/i18n.js";
import { formatValue } from "livegrad/util.js";

export class MetricChips {
  constructor(list, labels) {
    this.list = list; // the <dl>
    this.labels = { ...labels }; // metric name → the words a student reads
    this.clear();
  }

  // More words for metric names: a frame's metric_labels ({key: words}, which the server
  // sends on a page in another language than English).
  learn(labels) {
    if (labels && typeof labels === "object") Object.assign(this.labels, labels);
  }

  // A chip's words: the demo's label, else the catalogue's words for the name ("val_loss":
  // "val loss"), which app/i18n_extract.py collects from runs as metric entries.
  label(key) {
    if (this.labels[key]) return this.labels[key];
    const words = key.replace(/_/g, " ");
    return t(words);
  }

  clear() {
    this.list.textContent = "";
    this.chips = {};
  }

  show(metrics) {
    for (const [key, value] of Object.entries(metrics || {})) {
      if (!this.chips[key]) {
        const box = document.createElement("div");
        const dt = document.createElement("dt");
        dt.textContent = this.label(key);
        this.chips[key] = document.createElement("dd");
        box.append(dt, this.chips[key]);
        this.list.appendChild(box);
      }
      this.chips[key].textContent = formatValue(value);
    }
  }

  // The chips as of frames[0..last]: each metric's latest value by then.
  showAt(frames, last) {
    this.clear();
    for (let i = 0; i <= last; i += 1) this.show(frames[i].metrics);
  }
}
