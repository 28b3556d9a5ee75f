// Applies the saved light/dark choice before the page paints (loaded blocking in <head>).
try {
  const saved = localStorage.getItem("theme");
  if (saved === "light" || saved === "dark") document.documentElement.dataset.theme = saved;
} catch (_e) {
  // Storage blocked: the page follows prefers-color-scheme.
}
