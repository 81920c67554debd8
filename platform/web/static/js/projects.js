// Pilot programme and project pages (no inline script: the CSP forbids it).
// 1. The participants' checkbox tree of the programme form: 全选, a city with its counties, the count.
// 2. (The targets editor moved to targets.js.)
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

  // (2. the targets editor lives in targets.js, included by the targets pages)

  // --- 3. small things: the money preview while typing, 打印 buttons ---------------------------
  document.addEventListener("click", function (evt) {
    if (evt.target.closest("button[data-print]")) window.print();
  });

  document.addEventListener("input", function (evt) {
    if (evt.target.matches && evt.target.matches("input[data-money]")) showMoney(evt.target);
  });

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
  }

  document.addEventListener("DOMContentLoaded", init);
})();
