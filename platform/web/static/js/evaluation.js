// The self-evaluation pages (no inline script, CSP). The live score needs no script of its own: the
// form posts itself to the preview as a scored value is typed (htmx, hx-trigger on the form, from
// the .jx-scored inputs only: the texts change no point) and the server answers
// the score panel and each line's cells. Here only: ask before 提交, and 打印 on the 自评表.
(function () {
  document.addEventListener("click", function (evt) {
    var submit = evt.target.closest && evt.target.closest("button[data-confirm-submit]");
    if (submit && !window.confirm(submit.getAttribute("data-confirm-submit"))) {
      evt.preventDefault();
      return;
    }
    if (evt.target.closest && evt.target.closest("button[data-print-sheet]")) window.print();
  });
})();
