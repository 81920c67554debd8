// 跟踪监控 pages (no inline script, CSP): the round form's live traffic-light badges — the same
// direction rules and the program's thresholds (data-* of the form) as the service; the server
// decides on 报送 — the budget's execution rate against 序时进度, the chart per quantitative line
// (ECharts, data from the JSON API), and the print button.
(function () {
  "use strict";

  var NAMES = { green: "绿色", yellow: "黄色", red: "红色" };
  var NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

  function num(text) {
    var t = String(text == null ? "" : text).trim().replace(/,/g, "");
    if (!NUMBER.test(t)) return null;
    var n = Number(t);
    return isFinite(n) ? n : null;
  }

  function ratio(numerator, denominator) {
    if (denominator <= 0) return 0;
    return Math.max(numerator / denominator, 0);
  }

  // How far `actual` meets `planned` (1 = met), uncapped, never below 0 — evaluation.scoring.completion.
  function completion(direction, planned, actual) {
    if (direction === "range") {
      var parts = String(planned).split(",").filter(function (p) { return p.trim(); });
      if (parts.length !== 2) return null;
      var a = num(parts[0]), b = num(parts[1]);
      if (a === null || b === null) return null;
      var low = Math.min(a, b), high = Math.max(a, b);
      if (actual >= low && actual <= high) return 1;
      return actual > high ? ratio(high, actual) : ratio(actual, low);
    }
    var goal = num(planned);
    if (goal === null) return null;
    if (direction === ">=") {
      if (goal <= 0) return actual >= goal ? 1 : 0;
      return Math.max(actual / goal, 0);
    }
    if (direction === "<=") return actual <= goal ? 1 : ratio(goal, actual);
    if (direction === "=") {
      if (goal === 0) return actual === 0 ? 1 : 0;
      return Math.max(1 - Math.abs(actual - goal) / Math.abs(goal), 0);
    }
    return null;
  }

  // percent, rid of binary noise (the server computes in decimals)
  function percent(share) { return Math.round(share * 100 * 1e6) / 1e6; }

  function lineWarning(pct, form) {
    if (pct >= num(form.getAttribute("data-green"))) return "green";
    if (pct >= num(form.getAttribute("data-yellow"))) return "yellow";
    return "red";
  }

  function budgetWarning(lag, form) {
    if (lag > num(form.getAttribute("data-lag-red"))) return "red";
    if (lag > num(form.getAttribute("data-lag-yellow"))) return "yellow";
    return "green";
  }

  function paint(badge, warning) {
    badge.className = "badge " + (warning ? "jx-warn jx-warn-" + warning : "text-bg-light border");
    badge.textContent = warning ? NAMES[warning] : "—";
    badge.setAttribute("data-warning", warning || "");
  }

  function need(inputs, labels, on) {
    inputs.forEach(function (el) {
      el.required = on;
      if (on) el.setAttribute("aria-required", "true");
      else el.removeAttribute("aria-required");
    });
    labels.forEach(function (el) { el.classList.toggle("jx-required", on); });
  }

  function midpoints(form) {
    try { return JSON.parse(form.getAttribute("data-midpoints") || "{}"); } catch (e) { return {}; }
  }

  function updateLine(form, body) {
    var share = null;
    if (body.getAttribute("data-value-type") === "qualitative") {
      var band = body.querySelector("[data-achievement]");
      var mid = band && band.value ? num(midpoints(form)[band.value]) : null;
      share = mid === null ? null : mid / 100;
    } else {
      var planned = body.querySelector("[data-planned]"), actual = body.querySelector("[data-actual]");
      var a = actual ? num(actual.value) : null;
      if (planned && planned.value.trim() && a !== null) share = completion(body.getAttribute("data-direction"), planned.value, a);
    }
    var warning = share === null ? null : lineWarning(percent(share), form);
    paint(body.querySelector("[data-badge]"), warning);
    var shown = body.querySelector("[data-completion]");
    if (shown) shown.textContent = share === null ? "" : "完成率 " + percent(share).toFixed(2) + "%";
    var warned = warning === "yellow" || warning === "red";
    body.classList.toggle("jx-warned", warned);
    body.classList.toggle("jx-warned-red", warning === "red");
    need(body.querySelectorAll("[data-need]"), body.querySelectorAll("[data-warn-label]"), warned);
    var hint = body.querySelector("[data-why-hint]");
    if (hint) {
      hint.textContent = warned ? NAMES[warning] + "预警：须填写偏差原因和纠偏措施（报送时系统核定）" : "";
      hint.classList.toggle("d-none", !warned);
    }
  }

  // 序时进度: the days of the budget year elapsed at as_of (that day included) / days in the year
  function timeProgress(asOf, year) {
    var m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(asOf || "");
    if (!m) return null;
    var day = Date.UTC(+m[1], +m[2] - 1, +m[3]);
    var first = Date.UTC(year, 0, 1), last = Date.UTC(year, 11, 31);
    if (isNaN(day)) return null;
    if (day < first) return 0;
    if (day >= last) return 1;
    return (Math.round((day - first) / 86400000) + 1) / (Math.round((last - first) / 86400000) + 1);
  }

  function updateBudget(form) {
    var badge = form.querySelector("[data-budget-badge]");
    if (!badge) return;
    var figures = form.querySelector("[data-budget-figures]");
    var executed = num((form.querySelector("[data-budget-executed]") || {}).value);
    var budget = num(form.getAttribute("data-budget"));
    var progress = timeProgress((form.querySelector("[data-as-of]") || {}).value, +form.getAttribute("data-year"));
    var warning = null;
    if (executed !== null && executed >= 0 && budget && progress !== null) {
      var rate = executed / budget;
      warning = budgetWarning(percent(progress - rate), form);
      figures.textContent = "执行率 " + percent(rate).toFixed(2) + "% · 序时进度 " + percent(progress).toFixed(2) + "%";
      figures.classList.remove("text-secondary");
    } else {
      figures.textContent = "填写截止日期与执行数后显示执行率与序时进度";
      figures.classList.add("text-secondary");
    }
    paint(badge, warning);
    var warned = warning === "yellow" || warning === "red";
    var box = form.querySelector("[data-budget-why]");
    need(form.querySelectorAll("[data-budget-need]"), box ? box.querySelectorAll("[data-warn-label]") : [], warned);
    var over = executed !== null && budget !== null && executed > budget;
    var explanation = form.querySelector("[data-budget-explanation]");
    if (explanation) {
      explanation.required = over;
      var label = form.querySelector('label[for="' + explanation.id + '"]');
      if (label) label.classList.toggle("jx-required", over);
    }
  }

  function updateAll(form) {
    form.querySelectorAll("[data-line]").forEach(function (body) { updateLine(form, body); });
    updateBudget(form);
  }

  document.addEventListener("input", onChange);
  document.addEventListener("change", onChange);
  function onChange(evt) {
    var form = evt.target.closest && evt.target.closest("form[data-round-form]");
    if (!form) return;
    var body = evt.target.closest("[data-line]");
    if (body) updateLine(form, body);
    else updateBudget(form);
  }

  document.addEventListener("click", function (evt) {
    if (evt.target.closest && evt.target.closest("button[data-print-sheet]")) window.print();
  });

  // --- the chart: one quantitative line at a time, chosen in a select ---------------------------

  function series(rounds) {
    var periods = rounds.map(function (r) { return r.period; });
    var lines = {}, order = [];
    rounds.forEach(function (r, i) {
      (r.progress || []).forEach(function (p) {
        if (p.value_type !== "quantitative") return;
        if (!lines[p.name]) {
          lines[p.name] = { unit: p.unit, target: [], planned: [], actual: [], forecast: [] };
          order.push(p.name);
        }
        var l = lines[p.name];
        l.target[i] = p.direction === "range" ? null : num(p.target_value);
        l.planned[i] = p.direction === "range" ? null : num(p.planned_value);
        l.actual[i] = num(p.actual_value);
        l.forecast[i] = p.forecast ? num(p.forecast.value) : null;
      });
    });
    order.forEach(function (name) {
      ["target", "planned", "actual", "forecast"].forEach(function (k) {
        for (var i = 0; i < periods.length; i++) if (lines[name][k][i] === undefined) lines[name][k][i] = null;
      });
    });
    return { periods: periods, lines: lines, order: order };
  }

  function option(data, name) {
    var l = data.lines[name], unit = l.unit || "";
    var point = { symbolSize: 8, connectNulls: true, label: { show: true, fontSize: 11 } };
    return {
      animation: false,
      title: { text: name + (unit ? "（" + unit + "）" : ""), left: "center", top: 0, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis", valueFormatter: function (v) { return v == null ? "—" : v + (unit ? " " + unit : ""); } },
      legend: { data: ["目标值", "计划值", "实际值", "预测值"], top: 24 },
      grid: { left: 72, right: 24, top: 64, bottom: 32 },
      xAxis: { type: "category", data: data.periods.map(function (p) { return p.replace("-", "年") + "月"; }) },
      yAxis: { type: "value", name: unit, scale: true },
      series: [
        Object.assign({ name: "目标值", type: "line", data: l.target, lineStyle: { type: "dotted" }, itemStyle: { color: "#6c757d" } }, { symbolSize: 6, connectNulls: true }),
        Object.assign({ name: "计划值", type: "line", data: l.planned, itemStyle: { color: "#1d3557" } }, point),
        Object.assign({ name: "实际值", type: "line", data: l.actual, itemStyle: { color: "#1e7b34" } }, point),
        Object.assign({ name: "预测值", type: "line", data: l.forecast, lineStyle: { type: "dashed" }, itemStyle: { color: "#b3261e" } }, point),
      ],
    };
  }

  function drawChart(el) {
    if (!window.echarts || !window.jixiaoFetch) return;
    var select = document.querySelector("[data-chart-line]");
    window.jixiaoFetch(el.getAttribute("data-source"))
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (rounds) {
        if (!rounds) return;
        var data = series(rounds);
        if (!data.order.length) {
          el.textContent = "本项目没有定量指标，无趋势图。";
          el.classList.add("text-secondary", "small");
          return;
        }
        var chart = window.echarts.init(el, null, { renderer: "svg" });
        data.order.forEach(function (name) {
          var opt = document.createElement("option");
          opt.value = name;
          opt.textContent = name;
          if (select) select.appendChild(opt);
        });
        function show(name) {
          chart.setOption(option(data, name), true);
          el.setAttribute("data-line", name);
          el.setAttribute("data-series", "目标值,计划值,实际值,预测值");
        }
        if (select) select.addEventListener("change", function () { show(select.value); });
        show(data.order[0]);
        window.addEventListener("resize", function () { chart.resize(); });
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-round-form]").forEach(updateAll);
    var el = document.getElementById("jx-monitoring-chart");
    if (el) drawChart(el);
  });
})();
