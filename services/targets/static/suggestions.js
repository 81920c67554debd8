// 目标值参考 in the targets editor (no inline script: the CSP forbids it). Under the value of each
// line that uses a library indicator: the distribution of the approved target values of the same
// class of projects in the province's other tenants (rendered with the line as `data-statistics`;
// for a line picked later, GET the API's target-statistics with the page session, one request per
// indicator), or why there is none; and, as the user types, a warning when
// the value lies outside the usual range — Tukey's fences [p25 − 1.5·IQR, p75 + 1.5·IQR], the box
// plot's whiskers: [p25, p75] would flag half of all approved values by construction. A value in
// another unit than the indicator's is not compared (said so). The 推荐指标' 选用 buttons are
// targets.js's library picks; the new line is looked at once it exists.
(function () {
  "use strict";

  var cache = {}; // indicator id → Promise of its statistics (null when they could not be read)

  function statisticsUrl(id) {
    var form = document.getElementById("jx-targets-form");
    var url = form && form.getAttribute("data-statistics-url");
    return url ? url.replace("/indicators/0/", "/indicators/" + encodeURIComponent(id) + "/") : null;
  }

  function statistics(id) {
    if (!cache[id]) {
      var url = statisticsUrl(id);
      cache[id] = !url || !window.jixiaoFetch
        ? Promise.resolve(null)
        : window.jixiaoFetch(url)
            .then(function (resp) { return resp.ok ? resp.json() : null; })
            .catch(function () { return null; });
    }
    return cache[id];
  }

  // the first number of a value, as the server reads it ("≥ 98" → 98, "80,100" → 80)
  function firstNumber(text) {
    var found = String(text || "").replace(/[,，]/g, " ").match(/-?\d+(?:\.\d+)?/);
    return found ? Number(found[0]) : null;
  }

  function shown(n) {
    return String(Math.round(n * 100) / 100);
  }

  function part(className, text, testid) {
    var el = document.createElement("div");
    el.className = className;
    el.textContent = text;
    if (testid) el.setAttribute("data-testid", testid);
    return el;
  }

  function render(box, stats) {
    box.textContent = "";
    box.removeAttribute("data-low");
    box.removeAttribute("data-high");
    if (!stats) {
      box.appendChild(part("jx-suggest-ref", "全省参考值暂时无法读取"));
      return;
    }
    if (!stats.available) {
      box.appendChild(
        part("jx-suggest-ref", "同类项目不足 " + stats.min_tenants + " 个地区，暂不显示参考值", "suggestion-unavailable")
      );
      return;
    }
    var unit = stats.unit ? " " + stats.unit : "";
    var p25 = Number(stats.p25);
    var p75 = Number(stats.p75);
    var iqr = p75 - p25;
    box.setAttribute("data-low", String(p25 - 1.5 * iqr));
    box.setAttribute("data-high", String(p75 + 1.5 * iqr));
    box.setAttribute("data-unit", stats.unit || "");
    box.appendChild(
      part(
        "jx-suggest-ref",
        "全省同类项目已批复目标值：" + stats.tenants + " 个地区 · 中位数 " + stats.median + unit +
          " · 四分位 " + stats.p25 + "–" + stats.p75 + unit,
        "suggestion-distribution"
      )
    );
    var warning = part("jx-suggest-warn d-none", "", "suggestion-warning");
    warning.setAttribute("role", "status");
    box.appendChild(warning);
  }

  // the typed value against the fences (only once the distribution is shown)
  function judge(row) {
    var box = row.querySelector("[data-suggestion]");
    var input = row.querySelector('[name="line_target_value"]');
    var warning = box && box.querySelector("[data-testid=suggestion-warning]");
    if (!box || !input || !warning) return;
    var low = Number(box.getAttribute("data-low"));
    var high = Number(box.getAttribute("data-high"));
    var unit = box.getAttribute("data-unit") || "";
    var unitField = row.querySelector('[name="line_unit"]');
    var typedUnit = unitField ? unitField.value.trim() : "";
    var value = firstNumber(input.value);
    var message = "";
    var outside = false;
    if (value !== null && typedUnit && unit && typedUnit !== unit) {
      message = "单位（" + typedUnit + "）与参考值的单位（" + unit + "）不同，未比对";
    } else if (value !== null && (value < low || value > high)) {
      outside = true;
      var range = shown(low) + "–" + shown(high) + (unit ? " " + unit : "");
      message = "⚠ 该值明显" + (value > high ? "高于" : "低于") + "全省同类项目的通常范围（" + range + "），请核实指标值";
    }
    warning.textContent = message;
    warning.classList.toggle("d-none", !message);
    warning.classList.toggle("text-secondary", !!message && !outside);
    input.classList.toggle("jx-value-outlier", outside);
  }

  function refreshRow(row) {
    var box = row.querySelector("[data-suggestion]");
    var field = row.querySelector('[name="line_indicator_id"]');
    if (!box) return;
    var id = field ? field.value.trim() : "";
    if (box.getAttribute("data-for") === id) return;
    box.setAttribute("data-for", id);
    box.textContent = "";
    if (!/^\d+$/.test(id)) return;
    var given = box.getAttribute("data-statistics");
    if (given) {
      try {
        var stats = JSON.parse(given);
        cache[id] = cache[id] || Promise.resolve(stats);
        render(box, stats);
        judge(row);
        return;
      } catch (e) { /* fetch them instead */ }
    }
    box.appendChild(part("jx-suggest-ref", "正在读取全省同类项目参考值…"));
    statistics(id).then(function (stats) {
      if (box.getAttribute("data-for") !== id || !row.isConnected) return;
      render(box, stats);
      judge(row);
    });
  }

  function refreshAll() {
    var body = document.getElementById("jx-lines-body");
    if (!body) return;
    body.querySelectorAll("tr.jx-line").forEach(refreshRow);
  }

  document.addEventListener("input", function (evt) {
    var target = evt.target;
    if (!target.matches || !target.matches('[name="line_target_value"], [name="line_unit"]')) return;
    var row = target.closest("tr.jx-line");
    if (row) judge(row);
  });
  // a library pick (the picker's or a 推荐指标's 选用) adds its line in targets.js's own handler
  document.addEventListener("click", function (evt) {
    if (evt.target.closest && evt.target.closest("[data-pick-line]")) window.setTimeout(refreshAll, 0);
  });
  document.addEventListener("DOMContentLoaded", refreshAll);
  document.addEventListener("htmx:afterSettle", refreshAll);
})();
