// A classic (blocking) script: applies the saved theme and text size before the
// first paint, so the page never flashes the wrong theme. storage.js owns the keys.
(function () {
  const read = (key) => {
    try { return JSON.parse(localStorage.getItem("playground:" + key)); } catch { return null; }
  };
  const dark = window.matchMedia && matchMedia("(prefers-color-scheme: dark)").matches;
  const root = document.documentElement;
  root.dataset.theme = read("theme") || (dark ? "dark" : "light");
  const size = read("fontSize");
  if (size) root.style.setProperty("--font-size", size + "px");
})();
