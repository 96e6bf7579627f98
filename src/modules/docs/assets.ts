import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { runtimeName } from "../../runtime.ts";

/** A Swagger UI file served from the binary: its bytes and content type. */
export interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
}

const types: Record<string, string> = {
  "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
  "swagger-ui.css": "text/css; charset=utf-8",
  "favicon-32x32.png": "image/png",
};

/** The Swagger UI files (from swagger-ui-dist), loaded once on first use: no CDN, so the page works offline. */
export async function loadSwaggerAssets(): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  if (runtimeName === "bun") {
    const { assetPaths } = await import("./assets.bun.ts");
    for (const [name, path] of Object.entries(assetPaths)) {
      assets.set(name, { body: await Bun.file(path).bytes(), type: types[name]! });
    }
    return assets;
  }
  const require = createRequire(import.meta.url);
  for (const name of Object.keys(types)) {
    const body = readFileSync(require.resolve(`swagger-ui-dist/${name}`));
    assets.set(name, { body: new Uint8Array(body), type: types[name]! });
  }
  return assets;
}
