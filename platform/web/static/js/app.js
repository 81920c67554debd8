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
  document.addEventListener("change", function (evt) {
    var form = evt.target.closest("form[data-autosubmit]");
    if (form) form.submit();
  });
  document.addEventListener("submit", function (evt) {
    var message = evt.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) evt.preventDefault();
  });
})();
