// Swagger UI on this server's own OpenAPI document. A file, not an inline script: the page's
// Content-Security-Policy allows only this origin's scripts.
window.addEventListener("DOMContentLoaded", () => {
  window.ui = SwaggerUIBundle({
    url: "/api/schema",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    tryItOutEnabled: false,
  });
});
