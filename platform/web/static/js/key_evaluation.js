// The key evaluation pages (重点评价; no inline script, CSP). On the form: add and remove items in a
// dimension, and the live total, grade, weight sum and per-dimension subtotals as scores and weights
// are typed — computed here in cents (integers, no float drift) only to guide the evaluator; the
// server decides on save. Everywhere: ask before a confirming submit, 打印 on the print page.
(function () {
  function cents(text) {
    var t = String(text || "").trim();
    if (!/^\d+(\.\d{1,2})?$/.test(t)) return null;
    var parts = t.split(".");
    var frac = ((parts[1] || "") + "00").slice(0, 2);
    return parseInt(parts[0], 10) * 100 + parseInt(frac, 10);
  }

  function show(c) {
    var whole = Math.floor(c / 100);
    var rest = String(c % 100);
    return whole + "." + (rest.length < 2 ? "0" + rest : rest);
  }

  function grade(total, bands) {
    for (var i = 0; i < bands.length; i++) if (total >= bands[i][0]) return bands[i][1];
    return "差";
  }

  function recompute(form) {
    var live = form.querySelector("[data-key-live]");
    if (!live) return;
    var bands = (live.getAttribute("data-grades") || "").split(",").map(function (b) {
      var p = b.split(":");
      return [parseInt(p[0], 10) * 100, p[1]];
    });
    var total = 0, weights = 0;
    form.querySelectorAll("[data-key-section]").forEach(function (section) {
      var sw = 0, ss = 0;
      section.querySelectorAll("[data-key-row]").forEach(function (row) {
        var w = cents(row.querySelector("[data-key-weight]").value);
        var s = cents(row.querySelector("[data-key-score]").value);
        var scoreInput = row.querySelector("[data-key-score]");
        var over = w !== null && s !== null && s > w;
        scoreInput.classList.toggle("is-invalid", over);
        scoreInput.title = over ? "得分超过分值" : "";
        sw += w || 0;
        ss += s || 0;
      });
      var sub = form.querySelector('[data-key-sub="' + section.getAttribute("data-key-section") + '"]');
      if (sub) sub.textContent = show(ss) + " / " + show(sw);
      total += ss;
      weights += sw;
    });
    form.querySelector("[data-key-total]").textContent = show(total);
    form.querySelector("[data-key-grade]").textContent = grade(total, bands);
    form.querySelector("[data-key-weights]").textContent = show(weights);
    form.querySelector("[data-key-weight-warning]").hidden = weights === 10000;
  }

  document.addEventListener("input", function (evt) {
    var form = evt.target.closest && evt.target.closest("form[data-key-form]");
    if (form) recompute(form);
  });

  document.addEventListener("click", function (evt) {
    var target = evt.target;
    if (!target.closest) return;
    var confirmer = target.closest("button[data-confirm-submit]");
    if (confirmer && !window.confirm(confirmer.getAttribute("data-confirm-submit"))) {
      evt.preventDefault();
      return;
    }
    if (target.closest("button[data-print-sheet]")) {
      window.print();
      return;
    }
    var form = target.closest("form[data-key-form]");
    if (!form) return;
    var add = target.closest("button[data-key-add]");
    if (add) {
      var dimension = add.getAttribute("data-key-add");
      var section = form.querySelector('[data-key-section="' + dimension + '"]');
      var row = form.querySelector("template[data-key-template]").content.firstElementChild.cloneNode(true);
      row.querySelector('input[name="dimension[]"]').value = dimension;
      section.querySelector("[data-key-rows]").appendChild(row);
      row.querySelector('input[name="item[]"]').focus();
      recompute(form);
      return;
    }
    var remove = target.closest("button[data-key-remove]");
    if (remove) {
      remove.closest("[data-key-row]").remove();
      recompute(form);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-key-form]").forEach(recompute);
  });
})();
