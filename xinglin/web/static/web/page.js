// Behaviour that pages used to write inline (the Content-Security-Policy allows no inline
// event handler): [data-print] buttons print the page, [data-autosubmit] selects and
// checkboxes send their form when changed. Loaded with `defer`: the document is parsed when this runs.
for (const button of document.querySelectorAll("[data-print]")) {
  button.addEventListener("click", () => window.print());
}
for (const field of document.querySelectorAll("[data-autosubmit]")) {
  field.addEventListener("change", () => field.form.submit());
}
