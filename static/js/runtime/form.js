// A demo's controls as values: what the form holds (params), writing values into it, which
// controls show (show-if, the lesson's :hide:), controls that follow others (heads divides
// d_model), and the link that holds the values (share.js).

import {
  followDependencies, readControl, refreshControl, writeControl,
} from "livegrad/controls.js";
import { saveToUrl, valuesFromUrl } from "livegrad/share.js";

const holds = (want, value) => (Array.isArray(want) ? want.includes(value) : value === want);

export class ControlsForm {
  constructor(form, instance, presets) {
    this.form = form;
    this.instance = instance;
    this.presets = presets; // this instance's values in the lesson: a link holds the others
  }

  controls() { return Array.from(this.form.querySelectorAll("[name]")); }

  params() {
    return Object.fromEntries(this.controls().map((input) => [input.name, readControl(input)]));
  }

  setValues(values) {
    for (const input of this.controls()) {
      if (input.name in values) writeControl(input, values[input.name]);
    }
    this.follow(null);
    this.applyVisibility();
  }

  // A control changed by the student: its shown value, the controls that follow it, and
  // which controls apply now.
  moved(input) {
    refreshControl(input);
    this.follow(input);
    this.applyVisibility();
  }

  applyVisibility() {
    const params = this.params();
    for (const box of this.form.querySelectorAll("[data-show-if]")) {
      const rule = JSON.parse(box.dataset.showIf); // a value, or a list of allowed values
      box.hidden = box.hasAttribute("data-lesson-hidden") // the lesson's fence hides it
        || !Object.keys(rule).every((k) => holds(rule[k], params[k]));
    }
  }

  // Controls another control limits (heads: divisors of d_model) follow it.
  follow(moved) { followDependencies(this.form, this.params(), moved); }

  saveToUrl() { saveToUrl(this.instance, this.params(), this.presets); }

  // The values a shared link holds; true if it held any for this instance.
  restoreFromUrl() {
    const saved = valuesFromUrl(this.instance);
    let fromUrl = false;
    for (const input of this.controls()) {
      if (saved.has(input.name)) {
        writeControl(input, saved.get(input.name));
        fromUrl = true;
      } else {
        refreshControl(input);
      }
    }
    this.follow(null);
    this.applyVisibility();
    // The link now holds what the controls show (a value a control cannot take is gone).
    if (fromUrl) this.saveToUrl();
    return fromUrl;
  }

  // "Not run: values needs 4 or 5 numbers …" while a control another limits lacks what it
  // needs: { field: "values", problem: "needs 4 or 5 numbers …" } (null when nothing does).
  unmet() {
    const note = this.form.querySelector('.control-note[data-unmet="true"]');
    if (!note) return null;
    return { field: note.closest(".control").querySelector("[name]").name, problem: note.textContent };
  }
}
