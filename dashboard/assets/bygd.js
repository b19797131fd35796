// bygd web UI: the little that needs script. Every page works without it.
// - Buttons with data-copy copy that text (a pass link) and say so.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button || !navigator.clipboard) { return; }
  event.preventDefault();
  navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
    var done = button.getAttribute("data-copied");
    if (done) { button.textContent = done; }
  });
});
