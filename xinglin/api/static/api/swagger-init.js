// Start Swagger UI with the settings the page embeds; browser-session calls send the CSRF token.
const config = JSON.parse(document.getElementById("swagger-settings").textContent);
const csrfToken = document.body.dataset.csrfToken;
config.dom_id = "#swagger-ui";
config.presets = [SwaggerUIBundle.presets.apis];
config.requestInterceptor = (request) => {
  if (csrfToken) request.headers["X-CSRFToken"] = csrfToken;
  return request;
};
SwaggerUIBundle(config);
