/* Staff console: small progressive enhancements (every form works without them). */
(function () {
  "use strict";
  // Filters apply as soon as a select changes.
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.requestSubmit(); });
  });
  // Reply / internal note tabs.
  var tabs = document.querySelectorAll(".tabs [role=tab]");
  tabs.forEach(function (tab) {
    tab.addEventListener("click", function () {
      tabs.forEach(function (other) {
        var selected = other === tab;
        other.setAttribute("aria-selected", String(selected));
        document.getElementById(other.getAttribute("aria-controls")).hidden = !selected;
      });
    });
  });
  // A canned answer fills the reply box (its placeholders are already filled in).
  document.querySelectorAll("select[data-macro-target]").forEach(function (select) {
    select.addEventListener("change", function () {
      var option = select.selectedOptions[0];
      var box = document.getElementById(select.dataset.macroTarget);
      if (option && option.dataset.body) { box.value = option.dataset.body; box.focus(); }
    });
  });
  // Outside party fields only matter when escalating to line 4.
  var form = document.getElementById("escalate-form");
  if (form && form.elements.line) {
    var outside = form.querySelector("[data-line4]");
    var sync = function () {
      var line4 = form.elements.line.value === "4";
      outside.hidden = !line4;
      outside.querySelectorAll("input").forEach(function (input) { input.required = line4; });
    };
    form.elements.line.addEventListener("change", sync);
    sync();
  }
})();
