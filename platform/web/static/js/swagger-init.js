// Swagger UI bootstrap without inline script (the CSP forbids it) and without the remote validator.
window.addEventListener("load", function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: el.dataset.specUrl,
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
    // BaseLayout: the standalone top bar injects an inline <style> that the CSP refuses.
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
});
