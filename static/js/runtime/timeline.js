// A run's frames, kept in the page: pause, step and scrub through them. While paused the
// frames keep arriving and are kept; Resume (or End) catches up with the newest.
// Keys on the timeline: Space pauses or resumes, ←/→ step, Home/End jump.

import { t } from "livegrad/i18n.js";

const KEYS = {
  " ": (line) => line.togglePause(),
  ArrowLeft: (line) => line.step(-1),
  ArrowRight: (line) => line.step(1),
  Home: (line) => line.seek(0),
  End: (line) => line.toEnd(),
};

export class Timeline {
  // `demo` draws: demo.drawFrame(frame) adds one frame to what the charts show,
  // demo.showAt(index) redraws them as of frame `index`.
  constructor(demo, box) {
    this.demo = demo;
    this.box = box;
    this.scrubber = box.querySelector(".timeline-scrubber");
    this.readout = box.querySelector(".timeline-readout");
    this.pauseButton = box.querySelector('[data-action="pause"]');
    this.scrubber.addEventListener("input", () => this.seek(Number(this.scrubber.value)));
    box.addEventListener("keydown", (e) => {
      const key = KEYS[e.key];
      // Space on a button presses that button; everywhere else on the timeline it pauses.
      if (!key || (e.key === " " && e.target.tagName === "BUTTON")) return;
      e.preventDefault();
      key(this);
    });
    this.reset();
  }

  reset() {
    this.frames = [];
    this.cursor = -1; // the frame the charts show
    this.paused = false;
    this.render();
  }

  get last() { return this.frames.length - 1; }

  // A frame arrived: kept, and drawn unless the student paused.
  add(frame) {
    this.frames.push(frame);
    if (!this.paused) {
      this.cursor = this.last;
      this.demo.drawFrame(frame);
    }
    this.render();
  }

  togglePause() {
    if (this.paused) this.toEnd();
    else this.pause();
  }

  pause() {
    if (!this.frames.length) return;
    this.paused = true;
    this.render();
  }

  // Back to the newest frame, and follow the run again.
  toEnd() {
    this.paused = false;
    if (this.cursor !== this.last) this.show(this.last);
    this.render();
  }

  step(by) {
    const target = this.cursor + by;
    if (target < 0 || target > this.last) return;
    this.paused = true;
    // One frame forward adds that frame's ops; anything else redraws as of the target.
    if (by === 1) {
      this.cursor = target;
      this.demo.drawFrame(this.frames[target]);
    } else {
      this.show(target);
    }
    this.render();
  }

  seek(index) {
    if (!this.frames.length) return;
    const target = Math.max(0, Math.min(this.last, index));
    this.paused = target !== this.last || this.paused;
    if (target !== this.cursor) this.show(target);
    this.render();
  }

  show(index) {
    this.cursor = index;
    this.demo.showAt(index);
  }

  render() {
    const n = this.frames.length;
    this.box.hidden = n === 0;
    this.scrubber.max = String(Math.max(0, n - 1));
    this.scrubber.value = String(Math.max(0, this.cursor));
    this.pauseButton.textContent = this.paused ? t("▶ Resume") : t("❚❚ Pause");
    this.pauseButton.setAttribute("aria-pressed", String(this.paused));
    if (!n) { this.readout.textContent = ""; return; }
    const frame = this.frames[this.cursor];
    const behind = this.last - this.cursor;
    const values = { frame: this.cursor + 1, frames: n, step: frame.step, newer: behind };
    this.readout.textContent = this.paused && behind
      ? t("frame {frame} of {frames} · step {step} · {newer} newer", values)
      : t("frame {frame} of {frames} · step {step}", values);
    this.scrubber.setAttribute("aria-valuetext", this.readout.textContent);
  }
}
