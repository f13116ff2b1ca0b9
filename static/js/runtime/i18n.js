// The words the runtime shows, in the page's language. On a page in another language than
// English, templates/base.html puts the runtime's translated messages in
//   <script type="application/json" id="livegrad-messages">{"Run": "运行", ...}</script>
// (msgid → msgstr, from the gettext catalogue: app/i18n.py js_messages). English pages have
// none, and every message is its own English.
//
// t("Busy: {reason}. Trying again by itself in {seconds} s…", { reason, seconds }): the
// first argument is always a string literal (Babel's JavaScript extractor collects it into
// the catalogue: `python -m app i18n`), one whole sentence or label, its variable parts as
// named placeholders. Plurals: two literals, chosen by n in English.

let messages = null; // parsed on first use, once

function catalogue() {
  if (messages === null) {
    const element = document.getElementById("livegrad-messages");
    try {
      messages = element ? JSON.parse(element.textContent) || {} : {};
    } catch (error) {
      messages = {};
    }
  }
  return messages;
}

const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);

export function t(message, values = {}) {
  const known = catalogue();
  const text = has(known, message) && typeof known[message] === "string" && known[message]
    ? known[message] : message;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (has(values, name) ? String(values[name]) : whole));
}
