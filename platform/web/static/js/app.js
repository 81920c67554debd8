// Small page behaviour that must not be inline (CSP): CSRF header for htmx/fetch, auto-submitting selects.
(function () {
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  document.addEventListener("htmx:configRequest", function (evt) {
    evt.detail.headers["X-CSRFToken"] = csrfToken();
  });
  window.jixiaoFetch = function (url, options) {
    options = options || {};
    options.headers = Object.assign({ "X-CSRFToken": csrfToken(), Accept: "application/json" }, options.headers || {});
    options.credentials = "same-origin";
    return fetch(url, options);
  };
  // An htmx request the server refused (4xx/5xx is not swapped): say so instead of doing nothing.
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    var message = "操作未完成（HTTP " + xhr.status + "），请刷新页面后重试";
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.message) message = body.message;
    } catch (e) { /* an HTML error page: keep the generic message */ }
    var main = document.querySelector("main");
    if (!main) return;
    var alert = document.createElement("div");
    alert.className = "alert alert-danger alert-dismissible";
    alert.setAttribute("role", "alert");
    alert.setAttribute("data-testid", "htmx-error");
    alert.textContent = message;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", "关闭");
    alert.appendChild(close);
    main.insertBefore(alert, main.firstChild);
  });
  document.addEventListener("change", function (evt) {
    var form = evt.target.closest("form[data-autosubmit]");
    if (form) form.submit();
  });
  document.addEventListener("submit", function (evt) {
    var message = evt.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) evt.preventDefault();
  });
})();
