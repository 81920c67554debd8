// The targets editor (绩效目标填报; no inline script: the CSP forbids it): add / remove lines,
// 选用 a library indicator from the picker overlay into a new line, the live weight total,
// 平均分配权重, row numbers, a line's own check when the user leaves it after editing it, and the
// 申报表's 打印 button.
(function () {
  "use strict";

  function linesBody() { return document.getElementById("jx-lines-body"); }

  function lineRows() {
    var body = linesBody();
    return body ? Array.prototype.slice.call(body.querySelectorAll("tr.jx-line")) : [];
  }

  function messageRow(row) {
    var next = row.nextElementSibling;
    return next && next.classList.contains("jx-line-msg") ? next : null;
  }

  function renumber() {
    var rows = lineRows();
    rows.forEach(function (row, i) {
      var no = row.querySelector(".jx-line-no");
      if (no) no.textContent = String(i + 1);
      var remove = row.querySelector("[data-remove-line]");
      if (remove) remove.setAttribute("aria-label", "删除第 " + (i + 1) + " 行");
      var messages = messageRow(row);
      if (messages) messages.setAttribute("data-testid", "line-messages-" + (i + 1));
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

  // 平均分配权重: the program's total over the lines, whole numbers when possible (100 over 3:
  // 34, 33, 33), else hundredths; the first lines take the remainder, the sum is exactly the total.
  // The same as the service's rules.even_weights (一键勾选 on an empty set).
  function evenWeights(count, total) {
    if (count <= 0) return [];
    var whole = Number.isInteger(total) && total >= count;
    var step = whole ? 100 : 1; // in hundredths
    var units = Math.floor(Math.round(total * 100) / step);
    var base = Math.floor(units / count);
    var extra = units - base * count;
    var weights = [];
    for (var i = 0; i < count; i++) {
      var hundredths = (base + (i < extra ? 1 : 0)) * step;
      weights.push(whole ? String(hundredths / 100) : (hundredths / 100).toFixed(2).replace(/\.?0+$/, ""));
    }
    return weights;
  }

  function distributeWeights() {
    var sum = document.getElementById("jx-weight-sum");
    var rows = lineRows();
    if (!sum || !rows.length) return;
    var weights = evenWeights(rows.length, Number(sum.getAttribute("data-expected")));
    rows.forEach(function (row, i) {
      var input = row.querySelector("input.jx-in-weight");
      if (input) input.value = weights[i];
    });
    refreshWeights();
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

  function pickLine(pick) {
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
    // the picker stays open (an overlay beside the form): say where the line went
    var note = document.querySelector("[data-picked-note]");
    if (note) note.textContent = "已加入第 " + lineRows().length + " 行：" + pick.getAttribute("data-name") + "，请填写权重";
  }

  // --- a line's own check when the user leaves it ------------------------------------------------
  function showLineMessages(row, html) {
    var old = messageRow(row);
    if (old) old.remove();
    row.querySelectorAll(".is-invalid").forEach(function (el) { el.classList.remove("is-invalid"); });
    var holder = document.createElement("template");
    holder.innerHTML = "<table><tbody>" + html + "</tbody></table>";
    var messages = holder.content.querySelector("tr.jx-line-msg");
    row.classList.toggle("jx-line-bad", !!messages);
    if (!messages) return;
    (messages.getAttribute("data-bad-fields") || "").split(" ").forEach(function (name) {
      var field = name && row.querySelector('[name="line_' + name + '"]');
      if (field) field.classList.add("is-invalid");
    });
    row.parentNode.insertBefore(messages, row.nextSibling);
    renumber();
  }

  function checkLine(row) {
    var form = row.closest("form[data-check-line-url]");
    if (!form || !row.isConnected) return;
    row.removeAttribute("data-dirty");
    var data = new FormData();
    var token = form.querySelector('input[name="csrf_token"]');
    if (token) data.append("csrf_token", token.value);
    data.append("row", String(lineRows().indexOf(row) + 1));
    row.querySelectorAll('[name^="line_"]').forEach(function (field) { data.append(field.name, field.value); });
    window.jixiaoFetch(form.getAttribute("data-check-line-url"), {
      method: "POST",
      body: data,
      headers: { Accept: "text/html" },
    }).then(function (response) {
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html !== null && row.isConnected) showLineMessages(row, html);
    }).catch(function () { /* the next 检查 or 提交 says it all */ });
  }

  function editedIn(evt) {
    var row = evt.target.closest && evt.target.closest("tr.jx-line");
    if (row && row.closest("#jx-lines-body")) row.setAttribute("data-dirty", "1");
  }

  document.addEventListener("input", editedIn);
  document.addEventListener("change", editedIn);
  document.addEventListener("focusout", function (evt) {
    var row = evt.target.closest && evt.target.closest("tr.jx-line[data-dirty]");
    if (!row || (evt.relatedTarget && row.contains(evt.relatedTarget))) return;
    // leaving for 检查, 保存 or 提交: that answer names every problem, this line's included
    var to = evt.relatedTarget;
    if (to && to.closest && to.closest('button[type="submit"], [hx-post]')) { row.removeAttribute("data-dirty"); return; }
    checkLine(row);
  });

  // --- clicks and typing -------------------------------------------------------------------------
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
      var messages = messageRow(tr);
      if (messages) messages.remove();
      tr.remove();
      renumber();
      return;
    }
    if (evt.target.closest("[data-distribute-weights]")) { distributeWeights(); return; }
    var pick = evt.target.closest("[data-pick-line]");
    if (pick) { pickLine(pick); return; }
    if (evt.target.closest("button[data-print-sheet]")) window.print();
  });

  document.addEventListener("input", function (evt) {
    if (evt.target.matches && evt.target.matches("input.jx-in-weight")) refreshWeights();
  });

  document.addEventListener("DOMContentLoaded", renumber);
  document.addEventListener("htmx:afterSettle", renumber);
})();
