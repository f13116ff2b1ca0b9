// LiveGrad site behaviour shared by every page: theme, math, table of contents.
// Loaded in <head> without defer so the theme is set before the first paint.
(function () {
  "use strict";
  var KEY = "livegrad-theme";
  var root = document.documentElement;
  var systemDark = window.matchMedia("(prefers-color-scheme: dark)");

  function storedTheme() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; }
  }

  function applyTheme(theme) {
    root.dataset.theme = theme;
    document.dispatchEvent(new CustomEvent("livegrad:theme", { detail: { theme: theme } }));
  }

  applyTheme(storedTheme() || (systemDark.matches ? "dark" : "light"));
  systemDark.addEventListener("change", function (event) {
    if (!storedTheme()) applyTheme(event.matches ? "dark" : "light");
  });

  function toggleTheme() {
    var next = root.dataset.theme === "dark" ? "light" : "dark";
    try { localStorage.setItem(KEY, next); } catch (e) { /* private mode: not remembered */ }
    applyTheme(next);
  }

  function renderMath() {
    if (!window.katex) return;
    document.querySelectorAll(".math").forEach(function (el) {
      var display = el.tagName === "DIV";
      try {
        // trust stays false: \href, \url and friends render as plain text.
        window.katex.render(el.textContent.trim(), el, {
          displayMode: display, throwOnError: false, trust: false, strict: "ignore",
        });
      } catch (e) {
        el.classList.add("math-error");
      }
    });
  }

  function followTableOfContents() {
    var links = {};
    document.querySelectorAll(".toc a").forEach(function (a) {
      links[decodeURIComponent(a.hash.slice(1))] = a;
    });
    var headings = document.querySelectorAll(".lesson-body h2[id], .lesson-body h3[id]");
    if (!headings.length || !("IntersectionObserver" in window)) return;
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) return;
        Object.values(links).forEach(function (a) { a.removeAttribute("aria-current"); });
        var link = links[entry.target.id];
        if (link) link.setAttribute("aria-current", "true");
      });
    }, { rootMargin: "0px 0px -70% 0px" });
    headings.forEach(function (h) { observer.observe(h); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.addEventListener("click", toggleTheme);
    });
    renderMath();
    followTableOfContents();
  });
})();
