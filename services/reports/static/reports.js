// 试点报告 · 验收 (no inline script: the CSP forbids it). Loaded before Alpine (not deferred) so
// that the component is registered when Alpine starts.
// acceptanceChecklist: the acceptance form's running total against the pass mark, as typed.
document.addEventListener("alpine:init", function () {
  "use strict";
  window.Alpine.data("acceptanceChecklist", function () {
    return {
      total: "0.00",
      filled: 0,
      items: 0,
      passing: false,
      overMax: false,
      init: function () {
        this.recalc();
      },
      recalc: function () {
        var inputs = this.$root.querySelectorAll("input[data-score]");
        var sum = 0;
        var filled = 0;
        var over = false;
        Array.prototype.forEach.call(inputs, function (input) {
          var raw = input.value.trim();
          if (raw === "") return;
          var value = Number(raw);
          if (!isFinite(value)) return;
          filled += 1;
          sum += value;
          if (value < 0 || value > Number(input.getAttribute("data-max"))) over = true;
        });
        this.items = inputs.length;
        this.filled = filled;
        this.overMax = over;
        this.total = (Math.round(sum * 100) / 100).toFixed(2);
        this.passing = sum >= Number(this.$root.getAttribute("data-pass-mark"));
      },
      get stateText() {
        var mark = this.$root.getAttribute("data-pass-mark");
        if (this.overMax) return "有得分超出该项满分";
        var base = this.passing ? "达到及格线 " + mark : "低于及格线 " + mark;
        if (this.filled < this.items) return base + "（已评 " + this.filled + " / " + this.items + " 项）";
        return base;
      },
      get stateClass() {
        if (this.overMax) return "text-danger fw-semibold";
        return this.passing ? "text-success fw-semibold" : "text-warning-emphasis fw-semibold";
      }
    };
  });
});
