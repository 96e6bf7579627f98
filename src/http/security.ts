/** Headers every answer carries (written by the way out): no MIME sniffing, no Referer leaking the API's URLs. */
export const securityHeaders = {
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
} as const;

/**
 * The Swagger page's policy: everything from this origin only. Swagger UI sets inline styles on elements,
 * so styles allow 'unsafe-inline'; scripts do not (the page's own start-up script is a file).
 */
export const docsContentSecurityPolicy =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
