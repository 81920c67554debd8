// 汇总看板 (no inline script, CSP): the four charts from the data-charts attribute of the content
// (re-drawn when the filter form swaps the content in), and the print button; the comparison
// page's box plot likewise.
(function () {
  "use strict";

  var COLOURS = { green: "#1e7b34", yellow: "#f0b400", red: "#b3261e" };
  var NAMES = { green: "绿色", yellow: "黄色", red: "红色" };
  var NAVY = "#1d3557", STEEL = "#457b9d";
  var drawn = [];

  function base() {
    return { animation: false, textStyle: { fontFamily: "inherit" }, tooltip: {} };
  }

  function funnel(d) {
    var max = Math.max.apply(null, d.funnel.map(function (s) { return s.value; }).concat([1]));
    return Object.assign(base(), {
      tooltip: { trigger: "item", formatter: "{b}：{c} 个项目" },
      series: [{
        type: "funnel", sort: "none", min: 0, max: max, left: "10%", width: "80%", top: 8, bottom: 8, gap: 2,
        minSize: "34%", label: { show: true, position: "inside", formatter: "{b}  {c}", color: "#fff", fontSize: 12 },
        itemStyle: { borderColor: "#fff", borderWidth: 1 },
        color: ["#1d3557", "#274b73", "#345f8c", "#457b9d", "#5e93b3", "#7aa9c4", "#1e7b34"],
        data: d.funnel,
      }],
    });
  }

  function grades(d) {
    return Object.assign(base(), {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: ["自评", "重点评价"], top: 0 },
      grid: { left: 40, right: 16, top: 32, bottom: 28 },
      xAxis: { type: "category", data: d.grades.labels },
      yAxis: { type: "value", minInterval: 1, name: "项目" },
      series: [
        { name: "自评", type: "bar", data: d.grades.self, itemStyle: { color: NAVY }, label: { show: true, position: "top" } },
        { name: "重点评价", type: "bar", data: d.grades.key, itemStyle: { color: "#c9a227" }, label: { show: true, position: "top" } },
      ],
    });
  }

  function execution(d) {
    var pct = function (v) { return v == null ? "—" : v.toFixed(2) + "%"; };
    return Object.assign(base(), {
      tooltip: { trigger: "axis", valueFormatter: pct },
      legend: { data: ["预算执行率", "序时进度"], top: 0 },
      grid: { left: 48, right: 16, top: 32, bottom: 28 },
      xAxis: { type: "category", data: d.execution.cities, axisLabel: { interval: 0 } },
      yAxis: { type: "value", name: "%", min: 0 },
      series: [
        { name: "预算执行率", type: "bar", data: d.execution.rate, itemStyle: { color: STEEL }, label: { show: true, position: "top", formatter: function (p) { return p.value == null ? "" : p.value.toFixed(1) + "%"; } } },
        { name: "序时进度", type: "line", data: d.execution.progress, connectNulls: true, symbolSize: 8, itemStyle: { color: "#b3261e" }, lineStyle: { type: "dashed" } },
      ],
    });
  }

  function warnings(d) {
    return Object.assign(base(), {
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { data: ["绿色", "黄色", "红色"], top: 0 },
      grid: { left: 40, right: 16, top: 32, bottom: 28 },
      xAxis: { type: "category", data: d.warnings.cities, axisLabel: { interval: 0 } },
      yAxis: { type: "value", minInterval: 1, name: "指标" },
      series: ["green", "yellow", "red"].map(function (c) {
        return { name: NAMES[c], type: "bar", stack: "warnings", data: d.warnings[c], itemStyle: { color: COLOURS[c] } };
      }),
    });
  }

  // 横向对比: the box of the values that took part, every value a point, the outliers in red
  function box(d) {
    var b = d.box, unit = b.unit ? " " + b.unit : "";
    return Object.assign(base(), {
      tooltip: { trigger: "item", formatter: function (p) {
        if (p.seriesType === "boxplot") {
          var v = p.value.slice(-5);
          return "最小 " + v[0] + unit + "<br>下四分位 " + v[1] + unit + "<br>中位数 " + v[2] + unit + "<br>上四分位 " + v[3] + unit + "<br>最大 " + v[4] + unit;
        }
        return p.data.name + "：" + p.data.value[0] + unit + (p.data.outlier ? "（异常值）" : "");
      } },
      grid: { left: 24, right: 24, top: 16, bottom: 32 },
      xAxis: { type: "value", scale: true, name: b.unit || "", nameLocation: "end" },
      yAxis: { type: "category", data: [""], axisTick: { show: false } },
      series: [
        { type: "boxplot", data: [b.stats], itemStyle: { color: "#e8eef5", borderColor: NAVY }, boxWidth: [20, 40] },
        { type: "scatter", symbolSize: 9, data: b.points.map(function (p) {
          return { name: p.name, value: [p.value, 0], outlier: p.outlier, itemStyle: { color: p.outlier ? "#b3261e" : STEEL } };
        }) },
      ],
    });
  }

  var OPTIONS = { funnel: funnel, grades: grades, execution: execution, warnings: warnings, box: box };

  function draw(scope) {
    var holder = scope.querySelector ? scope.querySelector("[data-charts]") : null;
    if (!holder || !window.echarts) return;
    var data;
    try { data = JSON.parse(holder.getAttribute("data-charts") || "{}"); } catch (e) { return; }
    drawn = drawn.filter(function (c) { if (!document.body.contains(c.getDom())) { c.dispose(); return false; } return true; });
    holder.querySelectorAll("[data-province-chart]").forEach(function (el) {
      var kind = el.getAttribute("data-province-chart");
      if (!OPTIONS[kind]) return;
      var old = window.echarts.getInstanceByDom(el);
      if (old) old.dispose();
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(OPTIONS[kind](data), true);
      el.setAttribute("data-drawn", kind);
      drawn.push(chart);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function () { draw(document); });
  window.addEventListener("resize", function () { drawn.forEach(function (c) { c.resize(); }); });
  window.addEventListener("beforeprint", function () { drawn.forEach(function (c) { c.resize(); }); });
  document.addEventListener("click", function (evt) {
    if (evt.target.closest && evt.target.closest("[data-print-dashboard]")) window.print();
  });
})();
