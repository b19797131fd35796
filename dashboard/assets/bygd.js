// bygd web UI: the little that needs script. Every page works without it.
// - Buttons with data-copy copy that text (a pass link) and say so.
//   Without the clipboard API (plain http), the link's field is selected for Ctrl-C.
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button) { return; }
  event.preventDefault();
  var done = function () {
    var text = button.getAttribute("data-copied");
    if (text) { button.textContent = text; }
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(button.getAttribute("data-copy")).then(done);
  } else {
    var field = document.getElementById(button.getAttribute("data-copy-field") || "");
    if (field) { field.focus(); field.select(); }
  }
});
