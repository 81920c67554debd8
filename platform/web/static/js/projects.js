// Pilot programme and project pages (no inline script: the CSP forbids it).
// 1. The participants' checkbox tree of the programme form: 全选, a city with its counties, the count.
// 2. The targets editor: add / remove lines, 选用 a library indicator into a new line, the live
//    weight total, row numbers.
// 3. Small things: the budget amount shown with thousands separators while typing, 打印 buttons.
(function () {
  "use strict";

  // --- 1. the participants' tree --------------------------------------------------------------
  function treeBoxes(treeId) {
    var tree = document.getElementById(treeId);
    return tree ? Array.prototype.slice.call(tree.querySelectorAll('input[type="checkbox"]')) : [];
  }

  function refreshTree(treeId) {
    var boxes = treeBoxes(treeId);
    var checked = boxes.filter(function (b) { return b.checked; }).length;
    var all = document.querySelector('[data-check-all="' + treeId + '"]');
    if (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
    var count = document.querySelector('[data-checked-count="' + treeId + '"]');
    if (count) count.textContent = "已选 " + checked + " / " + boxes.length + " 个地区";
  }

  document.addEventListener("change", function (evt) {
    var all = evt.target.closest("[data-check-all]");
    if (all) {
      var treeId = all.getAttribute("data-check-all");
      treeBoxes(treeId).forEach(function (b) { b.checked = all.checked; });
      refreshTree(treeId);
      return;
    }
    var tree = evt.target.closest(".jx-tenant-tree");
    if (tree) refreshTree(tree.id);
  });

  document.addEventListener("click", function (evt) {
    var cityButton = evt.target.closest("[data-check-city]");
    if (!cityButton) return;
    var card = cityButton.closest(".jx-city");
    var boxes = Array.prototype.slice.call(card.querySelectorAll('input[type="checkbox"]'));
    var every = boxes.every(function (b) { return b.checked; });
    boxes.forEach(function (b) { b.checked = !every; });
    var tree = card.closest(".jx-tenant-tree");
    if (tree) refreshTree(tree.id);
  });

  // --- 2. the targets editor ------------------------------------------------------------------
  function linesBody() { return document.getElementById("jx-lines-body"); }

  function renumber() {
    var body = linesBody();
    if (!body) return;
    var rows = body.querySelectorAll("tr.jx-line");
    rows.forEach(function (row, i) {
      var no = row.querySelector(".jx-line-no");
      if (no) no.textContent = String(i + 1);
    });
    var empty = document.querySelector(".jx-no-lines");
    if (empty) empty.classList.toggle("d-none", rows.length > 0);
    refreshWeights();
  }

  function refreshWeights() {
    var sum = document.getElementById("jx-weight-sum");
    var body = linesBody();
    if (!sum || !body) return;
    var total = 0;
    var cents = true;
    body.querySelectorAll("input.jx-in-weight").forEach(function (input) {
      var text = input.value.trim();
      if (!text) return;
      var n = Number(text);
      if (isNaN(n)) { cents = false; return; }
      total += Math.round(n * 100);
    });
    var value = total / 100;
    sum.textContent = cents ? String(value) : String(value) + "（含非数字）";
    var expected = Number(sum.getAttribute("data-expected"));
    sum.classList.toggle("text-danger", value !== expected);
    sum.classList.toggle("text-success", value === expected);
  }

  function newRow() {
    var template = document.getElementById("jx-line-template");
    var body = linesBody();
    if (!template || !body) return null;
    var row = template.content.querySelector("tr.jx-line").cloneNode(true);
    body.appendChild(row);
    return row;
  }

  function setField(row, name, value) {
    var field = row.querySelector('[name="line_' + name + '"]');
    if (!field) return;
    if (field.tagName === "SELECT") {
      var found = Array.prototype.some.call(field.options, function (o) { return o.value === value; });
      field.value = found ? value : "";
    } else {
      field.value = value;
    }
  }

  document.addEventListener("click", function (evt) {
    if (evt.target.closest("[data-add-line]")) {
      var row = newRow();
      renumber();
      if (row) row.querySelector('[name="line_name"]').focus();
      return;
    }
    var remove = evt.target.closest("[data-remove-line]");
    if (remove) {
      var tr = remove.closest("tr");
      var next = tr.nextElementSibling;
      if (next && next.classList.contains("jx-line-msg")) next.remove();
      tr.remove();
      renumber();
      return;
    }
    var pick = evt.target.closest("[data-pick-line]");
    if (pick) {
      var picked = newRow();
      if (!picked) return;
      setField(picked, "indicator_id", pick.getAttribute("data-pick-line"));
      setField(picked, "name", pick.getAttribute("data-name"));
      setField(picked, "level2", pick.getAttribute("data-level2"));
      setField(picked, "value_type", pick.getAttribute("data-value-type"));
      setField(picked, "direction", pick.getAttribute("data-direction"));
      setField(picked, "target_value", pick.getAttribute("data-target-value"));
      setField(picked, "unit", pick.getAttribute("data-unit"));
      setField(picked, "value_basis", pick.getAttribute("data-value-basis"));
      var code = picked.querySelector(".jx-line-code");
      if (code) code.textContent = "库指标 " + pick.getAttribute("data-code");
      renumber();
      pick.textContent = "已选用";
      pick.disabled = true;
      var weight = picked.querySelector('[name="line_weight"]');
      if (weight) weight.focus();
      return;
    }
    if (evt.target.closest("button[data-print]")) window.print();
  });

  document.addEventListener("input", function (evt) {
    if (evt.target.matches && evt.target.matches("input.jx-in-weight")) refreshWeights();
    if (evt.target.matches && evt.target.matches("input[data-money]")) showMoney(evt.target);
  });

  // --- 3. money preview -----------------------------------------------------------------------
  function showMoney(input) {
    var preview = document.querySelector('[data-money-preview="' + input.id + '"]');
    if (!preview) return;
    var text = input.value.replace(/,/g, "").trim();
    if (!/^\d+(\.\d{0,2})?$/.test(text)) {
      preview.textContent = text ? "请输入金额（元），最多两位小数" : "";
      return;
    }
    var parts = Number(text).toFixed(2).split(".");
    preview.textContent = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + "." + parts[1] + " 元";
  }

  function init() {
    document.querySelectorAll(".jx-tenant-tree").forEach(function (tree) { refreshTree(tree.id); });
    document.querySelectorAll("input[data-money]").forEach(showMoney);
    renumber();
  }

  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", function () { renumber(); });
})();
