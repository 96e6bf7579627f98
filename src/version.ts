import pkg from "../package.json" with { type: "json" };

declare const __GISTS_API_VERSION__: string | undefined;
declare const __GISTS_API_COMMIT__: string | undefined;

/** The release version: baked in by the build, else package.json's. */
export const version: string = typeof __GISTS_API_VERSION__ === "string" ? __GISTS_API_VERSION__ : pkg.version;

/** The git commit the binary was built from, or "dev" when running from source. */
export const commit: string = typeof __GISTS_API_COMMIT__ === "string" ? __GISTS_API_COMMIT__ : "dev";

/** The product's name as it appears in health answers, logs and the User-Agent. */
export const serviceName = "github-gists-api";
