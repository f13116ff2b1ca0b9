// The one generic runtime for every LiveGrad demo: a Demo per [data-demo] section.
// templates/lesson.html loads it as a module; its imports resolve through the page's
// import map (app/assets.py import_map), which carries each module's content hash.

import { Demo } from "livegrad/demo.js";

function boot() {
  const demos = Array.from(document.querySelectorAll("[data-demo]"), (el) => {
    const demo = new Demo(el);
    el.livegrad = demo; // handy for tests and the console
    return demo;
  });
  document.addEventListener("livegrad:theme", () => demos.forEach((d) => d.relayoutAll()));
  // Nothing runs before the student has seen it: a live demo, or one a shared link set,
  // runs once it is mostly in view (or fills half the screen); data-autorun="false"
  // leaves it to the Run button.
  const seen = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!mostlyInView(entry)) continue;
      seen.unobserve(entry.target);
      const demo = entry.target.livegrad;
      if (!demo.record) demo.run();
    }
  }, { threshold: Array.from({ length: 21 }, (_, i) => i / 20) }) : null;
  for (const demo of demos) {
    if (seen && demo.autorun && (demo.live || demo.fromUrl)) seen.observe(demo.el);
  }
}

// Three quarters of the demo on screen, or (a demo taller than that) half the screen full of it.
function mostlyInView(entry) {
  if (!entry.isIntersecting) return false;
  const screen = entry.rootBounds ? entry.rootBounds.height : window.innerHeight;
  return entry.intersectionRatio >= 0.75 || entry.intersectionRect.height >= 0.5 * screen;
}

// A module runs once the document is parsed, in order with deferred scripts (Plotly).
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
