// Clickable rows: a click anywhere on a row with data-href opens it (links inside still work).
document.addEventListener("click", function (event) {
  var row = event.target.closest("tr[data-href]");
  if (!row || event.target.closest("a, button, input, select, label")) return;
  window.location.href = row.dataset.href;
});
