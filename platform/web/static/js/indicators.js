// Indicator library pages (no inline script: the CSP forbids it).
// 1. The picker of templates and cases: "加入" copies a found indicator into the picked list.
// 2. The historical-values chart on an indicator's page: ECharts, data from the JSON API.
// 3. Small things: 打印 buttons, the chosen file's name beside the Chinese file button.
(function () {
  "use strict";

  function pick(button) {
    var list = document.getElementById("jx-picked");
    var row = document.getElementById("jx-picked-row");
    if (!list || !row) return;
    var id = button.getAttribute("data-pick");
    var existing = list.querySelector('input[name="indicator_ids"][value="' + id + '"]');
    if (existing) {
      existing.checked = true;
    } else {
      var item = row.content.firstElementChild.cloneNode(true);
      var box = item.querySelector("input");
      var label = item.querySelector("label");
      box.value = id;
      box.id = "pick-" + id;
      label.setAttribute("for", box.id);
      item.querySelector(".jx-code").textContent = button.getAttribute("data-pick-code");
      item.querySelector(".jx-name").textContent = button.getAttribute("data-pick-name");
      item.querySelector(".jx-level2").textContent = button.getAttribute("data-pick-level2") || "";
      list.insertBefore(item, list.querySelector(".jx-picked-empty"));
    }
    button.textContent = "已加入";
    button.disabled = true;
  }

  document.addEventListener("click", function (evt) {
    var button = evt.target.closest("button[data-pick]");
    if (button) pick(button);
    if (evt.target.closest("button[data-print]")) window.print();
  });

  // Found indicators that are already picked say so.
  document.addEventListener("htmx:afterSwap", function (evt) {
    var list = document.getElementById("jx-picked");
    if (!list || !evt.target.querySelectorAll) return;
    evt.target.querySelectorAll("button[data-pick]").forEach(function (button) {
      var box = list.querySelector('input[name="indicator_ids"][value="' + button.getAttribute("data-pick") + '"]');
      if (box && box.checked) {
        button.textContent = "已加入";
        button.disabled = true;
      }
    });
  });

  // The file input is hidden behind a Chinese "选择文件" button; show the chosen file's name.
  document.addEventListener("change", function (evt) {
    var input = evt.target;
    if (!input.matches || !input.matches('input[type="file"]')) return;
    var shown = document.querySelector('[data-file-name="' + input.id + '"]');
    if (!shown) return;
    var file = input.files && input.files[0];
    shown.textContent = file ? file.name : "未选择文件";
    shown.classList.toggle("text-secondary", !file);
  });

  function drawHistory(el) {
    if (!window.echarts || !window.jixiaoFetch) return;
    window
      .jixiaoFetch(el.getAttribute("data-source"))
      .then(function (resp) {
        return resp.ok ? resp.json() : null;
      })
      .then(function (indicator) {
        if (!indicator) return;
        var values = indicator.historical_values || {};
        var years = Object.keys(values).sort();
        var data = years.map(function (y) {
          var n = parseFloat(String(values[y]).replace(/,/g, ""));
          return isNaN(n) ? null : n;
        });
        var unit = el.getAttribute("data-unit") || "";
        var chart = window.echarts.init(el, null, { renderer: "svg" });
        chart.setOption({
          animation: false,
          grid: { left: 48, right: 16, top: 24, bottom: 28 },
          tooltip: { trigger: "axis", valueFormatter: function (v) { return v + (unit ? " " + unit : ""); } },
          xAxis: { type: "category", data: years.map(function (y) { return y + "年"; }) },
          yAxis: { type: "value", name: unit, scale: true },
          series: [{ type: "line", data: data, symbolSize: 8, label: { show: true }, itemStyle: { color: "#1d3557" } }],
        });
        window.addEventListener("resize", function () { chart.resize(); });
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("jx-hist-chart");
    if (el) drawHistory(el);
  });
})();
