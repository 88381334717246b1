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
  // Sortable tables: a click on a column head sorts by it (numbers by data-value or text).
  document.querySelectorAll("table[data-sortable]").forEach(function (table) {
    var heads = table.querySelectorAll("thead th");
    var key = function (row, index) {
      var cell = row.cells[index];
      var raw = cell.dataset.value !== undefined ? cell.dataset.value : cell.textContent.trim();
      var number = parseFloat(raw.replace(/\s|%/g, ""));
      return isNaN(number) || !/^[\d\s.,%-]+$/.test(raw) ? raw.toLowerCase() : number;
    };
    heads.forEach(function (th, index) {
      if (!th.textContent.trim()) return;
      th.dataset.sort = "";
      th.tabIndex = 0;
      var sort = function () {
        var descending = th.getAttribute("aria-sort") !== "descending";
        heads.forEach(function (other) { other.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", descending ? "descending" : "ascending");
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var x = key(a, index), y = key(b, index);
          var order = typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : (typeof x === "number" ? -1 : 1);
          return descending ? -order : order;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (event) { if (event.key === "Enter") sort(); });
    });
  });
})();
