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
  // A shared link reruns its computation at once; live demos run when first seen.
  const seen = "IntersectionObserver" in window ? new IntersectionObserver((entries) => {
    for (const entry of entries) {
      if (!entry.isIntersecting) continue;
      seen.unobserve(entry.target);
      const demo = entry.target.livegrad;
      if (demo.live && !demo.record) demo.run();
    }
  }, { rootMargin: "200px" }) : null;
  for (const demo of demos) {
    if (demo.fromUrl) demo.run();
    else if (seen) seen.observe(demo.el);
  }
}

// A module runs once the document is parsed, in order with deferred scripts (Plotly).
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
else boot();
