// Renders /openapi.json with the vendored Swagger UI. A file, not an inline script: the page's CSP runs
// scripts from this server only.
window.addEventListener("DOMContentLoaded", () => {
  window.ui = window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,   // never send the document to an outside validator
  });
});
