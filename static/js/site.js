// LiveGrad site behaviour shared by every page: theme, math, table of contents, code copy,
// and in development mode a lesson that reloads when its file changes.
// Loaded in <head> without defer so the theme is set before the first paint.
(function () {
  "use strict";
  var KEY = "livegrad-theme";
  var root = document.documentElement;
  var systemDark = window.matchMedia("(prefers-color-scheme: dark)");

  // The words this script shows, in the page's language: the same lookup as the runtime's
  // (static/js/runtime/i18n.js) of the translations templates/base.html puts in the page.
  var messages = null;
  function t(message, values) {
    if (messages === null) {
      var el = document.getElementById("livegrad-messages");
      try { messages = (el && JSON.parse(el.textContent)) || {}; } catch (e) { messages = {}; }
    }
    var text = Object.prototype.hasOwnProperty.call(messages, message) && messages[message] || message;
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }

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
      // $$…$$ on its own lines is a div; inside a line (a table cell) a span.display.
      var display = el.tagName === "DIV" || el.classList.contains("display");
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

  // A box that scrolls sideways (long formula, wide code) must be reachable by keyboard.
  function focusableScrollers() {
    document.querySelectorAll(".math.block, pre, .lesson-body table").forEach(function (el) {
      if (el.scrollWidth > el.clientWidth + 1 && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0");
        if (!el.hasAttribute("role") && el.tagName !== "TABLE") el.setAttribute("role", "group");
        if (!el.hasAttribute("aria-label") && el.tagName !== "TABLE") {
          el.setAttribute("aria-label", el.tagName === "PRE" ? t("Code, scrolls sideways") : t("Formula, scrolls sideways"));
        }
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

  // On a phone the table of contents starts folded under the title, one line instead of
  // a screen; wider, it stands open beside the lesson.
  var NARROW = "(max-width: 700px)";

  function foldTableOfContents() {
    var fold = document.querySelector(".toc-fold");
    if (!fold) return;
    var narrow = window.matchMedia(NARROW);
    var apply = function () { fold.open = !narrow.matches; };
    apply();
    narrow.addEventListener("change", apply);
    fold.addEventListener("toggle", function () { if (!narrow.matches) fold.open = true; });
    fold.addEventListener("click", function (event) {
      if (narrow.matches && event.target.closest("a")) fold.open = false; // went to a heading
    });
  }

  // Copy buttons of code listings: the clipboard API where the page may use it, else
  // select the code so that Ctrl+C copies it. Nothing leaves the browser.
  function copyCode(button) {
    var code = button.closest("figure").querySelector("pre code");
    var text = code.textContent;
    var said = function (label) {
      button.textContent = label;
      setTimeout(function () { button.textContent = t("Copy"); }, 1800);
    };
    var select = function () {
      var fold = code.closest("details");
      if (fold) fold.open = true;
      var range = document.createRange();
      range.selectNodeContents(code);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      said(t("Selected: press Ctrl+C"));
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { said(t("✓ Copied")); }, select);
    } else {
      select();
    }
  }

  // Reading progress lives in this browser only: no account, nothing sent anywhere.
  var PROGRESS = "livegrad-progress";

  function readProgress() {
    try { return JSON.parse(localStorage.getItem(PROGRESS) || "{}"); } catch (e) { return {}; }
  }

  function trackReading() {
    var article = document.querySelector("article.lesson[data-lesson]");
    if (!article) return;
    var slug = article.dataset.lesson;
    var bar = document.querySelector(".reading-progress span");
    var update = function () {
      var box = article.getBoundingClientRect();
      var seen = (window.innerHeight - box.top) / box.height;
      var fraction = Math.max(0, Math.min(1, seen));
      if (bar) bar.style.width = Math.round(fraction * 100) + "%";
      var progress = readProgress();
      if (fraction > (progress[slug] || 0) + 0.02 || (fraction >= 0.98 && progress[slug] < 1)) {
        progress[slug] = fraction >= 0.98 ? 1 : Math.round(fraction * 100) / 100;
        try { localStorage.setItem(PROGRESS, JSON.stringify(progress)); } catch (e) { /* full */ }
      }
    };
    window.addEventListener("scroll", update, { passive: true });
    update();
  }

  function showProgressOnCards() {
    var progress = readProgress();
    document.querySelectorAll(".card[data-lesson]").forEach(function (card) {
      var value = progress[card.dataset.lesson];
      var badge = card.querySelector("[data-progress]");
      if (!badge || !value) return;
      badge.hidden = false;
      badge.textContent = value >= 1 ? t("✓ Read") : t("Read {percent}%", { percent: Math.round(value * 100) });
      badge.classList.toggle("done", value >= 1);
    });
  }

  // Development mode only (LIVEGRAD_DEV=1 renders the meta tag): the server says when
  // this lesson's Markdown file changed, and the page reloads to show the edit.
  function reloadOnLessonChange() {
    var meta = document.querySelector('meta[name="livegrad-reload"]');
    if (!meta || !window.EventSource) return;
    var source = new EventSource(meta.content);
    source.addEventListener("changed", function () {
      source.close();
      window.location.reload();
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    reloadOnLessonChange();
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.addEventListener("click", toggleTheme);
    });
    renderMath();
    focusableScrollers();
    // Widths change once KaTeX's fonts arrive: look again then.
    if (document.fonts) document.fonts.ready.then(focusableScrollers);
    window.addEventListener("resize", focusableScrollers);
    followTableOfContents();
    foldTableOfContents();
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-copy-code]");
      if (button) copyCode(button);
    });
    trackReading();
    showProgressOnCards();
  });
})();
