// The /docs page: Swagger UI over the API's own document. Loaded from the
// same origin (the page's CSP allows scripts from 'self' only, no inline
// code); URLs are relative to the page, so /docs works behind a path prefix.
"use strict";
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    url: new URL("openapi.json", document.baseURI).href,
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null, // never send the document to a third-party validator
    defaultModelsExpandDepth: 0,
    tryItOutEnabled: false
  });
});
