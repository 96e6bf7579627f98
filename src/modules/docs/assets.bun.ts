// Bun only: `with { type: "file" }` embeds each file in the compiled binary (a real path under `bun run`).
import bundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import css from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import favicon from "swagger-ui-dist/favicon-32x32.png" with { type: "file" };

/** Where each Swagger UI file lives in the binary. */
export const assetPaths: Record<string, string> = {
  "swagger-ui-bundle.js": bundle as unknown as string,
  "swagger-ui.css": css as unknown as string,
  "favicon-32x32.png": favicon as unknown as string,
};
