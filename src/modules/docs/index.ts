import { Elysia, t } from "elysia";
import { ApiError } from "../../http/errors.ts";
import { docsContentSecurityPolicy } from "../../http/security.ts";
import { loadSwaggerAssets, type Asset } from "./assets.ts";

/** Path of the OpenAPI document the page loads. */
export const openApiPath = "/swagger/json";

const page = (title: string) => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width, initial-scale=1" />
  <title>${title}</title>
  <link rel="icon" type="image/png" href="/swagger/assets/favicon-32x32.png" />
  <link rel="stylesheet" href="/swagger/assets/swagger-ui.css" />
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/swagger/assets/swagger-ui-bundle.js"></script>
  <script src="/swagger/assets/init.js"></script>
</body>
</html>
`;

// Kept in a file rather than inline, so a strict Content-Security-Policy (script-src 'self') allows it.
const init = `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(openApiPath)},
  dom_id: "#swagger-ui",
  deepLinking: true,
  displayRequestDuration: true,
  tryItOutEnabled: false,
  presets: [SwaggerUIBundle.presets.apis],
});
`;

/**
 * `GET /swagger`: Swagger UI with its files embedded in the binary instead of a CDN. Registered after the
 * OpenAPI plugin, so this page replaces the plugin's CDN-loading one.
 */
export function docsModule(title: string) {
  let assets: Promise<Map<string, Asset>> | undefined;
  const html = page(title);
  return new Elysia({ name: "docs" })
    .get(
      "/swagger",
      () => new Response(html, { headers: { "content-type": "text/html; charset=utf-8", "content-security-policy": docsContentSecurityPolicy } }),
      {
        detail: { hide: true },
      },
    )
    .get(
      "/swagger/assets/:file",
      async ({ params }) => {
        if (params.file === "init.js") {
          return new Response(init, { headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=3600" } });
        }
        assets ??= loadSwaggerAssets();
        const asset = (await assets).get(params.file);
        if (!asset) throw new ApiError(404, `No documentation file named '${params.file}'`);
        return new Response(asset.body, { headers: { "content-type": asset.type, "cache-control": "public, max-age=86400" } });
      },
      { params: t.Object({ file: t.String() }), detail: { hide: true } },
    );
}
