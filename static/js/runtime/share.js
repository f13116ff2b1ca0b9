// Links that reproduce a run: the page URL holds every non-default value of a demo as
// ?<instance>.<param>=value.

// Write `params` that differ from `presets` into the URL, replacing this instance's old ones.
export function saveToUrl(instance, params, presets) {
  const url = new URL(window.location.href);
  const prefix = `${instance}.`;
  for (const key of Array.from(url.searchParams.keys())) {
    if (key.startsWith(prefix)) url.searchParams.delete(key);
  }
  for (const [name, value] of Object.entries(params)) {
    if (JSON.stringify(value) !== JSON.stringify(presets[name])) {
      // Lists (clicked points) as JSON text, which their control reads back.
      url.searchParams.set(prefix + name, Array.isArray(value) ? JSON.stringify(value) : String(value));
    }
  }
  history.replaceState(history.state, "", url);
}

// The values the URL holds for this instance: a Map of parameter name to text.
export function valuesFromUrl(instance) {
  const prefix = `${instance}.`, values = new Map();
  for (const [key, value] of new URLSearchParams(window.location.search)) {
    const name = key.slice(prefix.length);
    if (key.startsWith(prefix) && !values.has(name)) values.set(name, value); // the first wins
  }
  return values;
}

// Copy the URL (already saved) pointing at this demo; say so on the button for a moment.
export function copyLink(instance, button) {
  const url = `${window.location.href.split("#")[0]}#demo-${instance}`;
  const done = () => {
    button.textContent = "✓ Link copied";
    setTimeout(() => { button.textContent = "Copy link"; }, 1800);
  };
  const ask = () => window.prompt("Copy this link:", url);
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(url).then(done, ask);
  else ask();
}
