// The palette opens in the browser, with no server round trip: Ctrl+K (or
// the Search button) shows the dialog and focuses its input at once, and
// keys typed before the input has focus are kept and put into it.
// `window.webosPalette` ({dialog, box}: NiceGUI element ids) is set by the page.
if (!window.webosOpenPalette) {
  let pending = null; // keys typed while the palette opens; null when not opening

  const input = () => document.querySelector('input[data-testid="palette-input"]');

  const focusInput = (tries) => {
    const box = input();
    if (box) {
      box.focus();
      if (pending) {
        box.value += pending;
        box.dispatchEvent(new Event("input", { bubbles: true }));
      }
      pending = null;
    } else if (tries > 0) {
      mounted_app.$nextTick(() => focusInput(tries - 1));
    } else if (tries > -60) {
      requestAnimationFrame(() => focusInput(tries - 1)); // a slow render: a frame at a time, a second at most
    } else {
      pending = null;
    }
  };

  window.webosOpenPalette = () => {
    const dialog = window.webosPalette && mounted_app.elements[window.webosPalette.dialog];
    if (!dialog) return;
    pending = "";
    dialog.props["model-value"] = true;
    emitEvent("webos_palette"); // the server marks it open (and rebuilds its items if modules changed)
    focusInput(3);
  };

  document.addEventListener(
    "keydown",
    (e) => {
      if ((e.ctrlKey || e.metaKey) && (e.key === "k" || e.key === "K")) {
        e.preventDefault();
        window.webosOpenPalette();
      } else if (pending !== null && e.key.length === 1 && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        pending += e.key;
      }
    },
    true,
  );
}
