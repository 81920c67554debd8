// 结果应用 (no inline script: the CSP forbids it).
// The reason field of the result-application form is shown when the chosen recommendation differs
// from the suggested one (the service requires it then); 打印 buttons on the public page.
(function () {
  "use strict";

  function refresh(form) {
    var suggested = form.getAttribute("data-suggested") || "";
    var chosen = form.querySelector('input[name="budget_recommendation"]:checked');
    var differs = !!chosen && chosen.value !== suggested;
    var box = form.querySelector("[data-reason-box]");
    if (!box) return;
    box.hidden = !differs;
    var field = box.querySelector("textarea");
    if (field) field.required = differs;
  }

  function all() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-suggested]"), refresh);
  }

  document.addEventListener("change", function (evt) {
    var form = evt.target.closest("form[data-suggested]");
    if (form) refresh(form);
  });
  document.addEventListener("click", function (evt) {
    if (evt.target.closest("button[data-print]")) window.print();
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
})();
