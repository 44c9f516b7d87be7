// comply dashboard: the little that HTML cannot do alone. Loaded as a file (the
// Content-Security-Policy forbids inline script); every page works without it.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy]");
  if (!button || !navigator.clipboard) return;
  navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
    var label = button.textContent;
    button.textContent = "Copied";
    setTimeout(function () { button.textContent = label; }, 1500);
  });
});
// Selects marked data-autosubmit submit their form when changed (sort, filter).
document.addEventListener("change", function (event) {
  var el = event.target.closest("[data-autosubmit]");
  if (el && el.form) el.form.requestSubmit();
});
