// The 33-item entry form: type 1-5 on an item to answer it and jump to the next one;
// items 9 (BMI) and 28 (waist) are filled from the measurements with the bands of the
// form file (the server computes them again on save).
(function () {
  const form = document.getElementById("assessment-form");
  if (!form) return;
  const bands = JSON.parse(document.getElementById("bands").textContent);
  const items = Array.from(form.querySelectorAll("fieldset.item"));

  function focusItem(index) {
    const item = items[index];
    if (!item) { form.querySelector("input[name=guidance]").focus(); return; }
    const radio = item.querySelector("input:checked") || item.querySelector("input");
    radio.focus();
    item.scrollIntoView({block: "center"});
  }

  function answer(itemNo, value) {
    const radio = form.querySelector(`input[name=q${itemNo}][value="${value}"]`);
    if (radio) radio.checked = true;
  }

  form.addEventListener("keydown", (event) => {
    const item = event.target.closest("fieldset.item");
    if (!item || !/^[1-5]$/.test(event.key)) return;
    event.preventDefault();
    answer(item.dataset.item, event.key);
    focusItem(items.indexOf(item) + 1);
  });

  function band(value, list) {
    for (const b of list) {
      if ("lt" in b && value < b.lt) return b.answer;
      if ("le" in b && value <= b.le) return b.answer;
      if (!("lt" in b) && !("le" in b)) return b.answer;
    }
  }

  function measure() {
    const height = parseFloat(form.height_cm.value), weight = parseFloat(form.weight_kg.value);
    const waist = parseFloat(form.waist_cm.value);
    const note = document.getElementById("bmi-note");
    if (height > 0 && weight > 0) {
      const bmi = weight / (height / 100) ** 2;
      answer(9, band(bmi, bands.bmi));
      note.textContent = `BMI ${bmi.toFixed(1)}`;
    }
    if (waist > 0) answer(28, band(waist, bands.waist));
  }
  ["height_cm", "weight_kg", "waist_cm"].forEach((name) => form[name].addEventListener("input", measure));
  measure();
})();
