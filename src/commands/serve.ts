import { defineCommand, usageError } from "../command.ts";
import { ConfigError, loadConfig } from "../config.ts";
import { procDescriptorCount, startDescriptorGuard } from "../http/descriptor-guard.ts";
import { createLogger, type Logger } from "../logger.ts";
import { environment, listen, ListenError, onShutdownSignal, runtimeName, stdoutSink, writeStderr, type Listener } from "../runtime.ts";
import { createServer } from "../server.ts";
import { noTracing } from "../tracing/tracing.ts";
import { commit, version } from "../version.ts";

/** How long shutdown waits for in-flight requests before closing anyway. */
const drainDeadlineMs = 9_000;

/**
 * How long shutdown keeps answering (each answer with `Connection: close`) even when nothing is in flight, so
 * clients holding idle keep-alive connections are told to reconnect elsewhere before the listener closes.
 */
const drainMinimumMs = 1_000;

/** How long start waits for the first answer from Redis (REDIS_URL) before listening without it. */
const sharedTierConnectMs = 1_000;

/** The exit code when the listener cannot be opened: the configuration is valid, the host refuses it. */
const listenFailure = 1;

/** `gists-api serve`: the HTTP service. */
export default defineCommand({
  name: "serve",
  usage: "gists-api serve [--port N] [--host ADDR] [--log-level LEVEL]",
  options: {
    port: { type: "string", short: "p", value: "port", description: "Port to listen on (env PORT, default 8080)" },
    host: { type: "string", value: "addr", description: "Address to bind (env HOST, default 0.0.0.0)" },
    "log-level": { type: "string", value: "level", description: "debug|info|warn|error|silent (env LOG_LEVEL)" },
  },
  examples: [
    "gists-api serve",
    "gists-api serve --port 9000 --host 127.0.0.1",
    "GITHUB_TOKEN=ghp_... CACHE_TTL=600 gists-api serve",
    "curl 'http://127.0.0.1:8080/octocat?page=1&per_page=10'",
  ],
  async run(values) {
    let config;
    try {
      config = loadConfig(environment(), {
        port: values.port as string | undefined,
        host: values.host as string | undefined,
        logLevel: values["log-level"] as string | undefined,
      });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      writeStderr(`gists-api serve: invalid configuration: ${error.message}\n`);
      return usageError;
    }
    const logger = createLogger(config.logLevel, stdoutSink());
    // The SDK is loaded only when traces have somewhere to go: without an endpoint nothing of it runs.
    const tracing = config.tracing ? (await import("../tracing/sdk.ts")).createTracing(config.tracing, logger) : noTracing;
    const server = createServer(config, logger, { tracing });
    // Bounded: an unreachable Redis delays the start by at most this, never stops it.
    await Promise.race([server.started, sleep(sharedTierConnectMs)]);
    let listener: Listener;
    try {
      listener = await listen(server.fetch, config.port, config.host);
    } catch (error) {
      if (!(error instanceof ListenError)) throw error;
      // One line an operator can act on: the runtime's own error is a stack trace into the bundle.
      writeStderr(`gists-api serve: ${error.message}\n`);
      await server.close();
      await tracing.shutdown();
      return listenFailure;
    }
    logger.info("listening", {
      url: listener.url,
      version,
      commit,
      runtime: runtimeName,
      github_api_url: config.githubApiUrl,
      github_token: config.githubToken ? "set" : "unset",
      cache_ttl_seconds: config.cache.ttlMs / 1000,
      shared_cache: config.shared ? "redis" : "off",
      tracing: config.tracing ? `${config.tracing.protocol} ${new URL(config.tracing.url).host}, ${config.tracing.sampler.name}` : "off",
    });

    const stopGuard = _guardDescriptors(listener, logger);

    return new Promise<number>((resolve) => {
      let stopping = false;
      onShutdownSignal(async (signal) => {
        if (stopping) return resolve(1);
        stopping = true;
        server.readiness.ready = false;
        logger.info("shutting down", { signal, in_flight: server.frontDoor.inFlight });
        const deadline = Date.now() + drainDeadlineMs;
        const minimum = Date.now() + drainMinimumMs;
        // Keep listening while requests finish, so probes see 503 and late requests are still answered.
        while ((server.frontDoor.inFlight > 0 || Date.now() < minimum) && Date.now() < deadline) await sleep(25);
        stopGuard();
        await Promise.race([listener.stop(), sleep(1500)]);
        server.refusals.flush();
        await Promise.race([server.close(), sleep(500)]);
        // The last spans go out within a bound: a collector that hangs must not hold the pod past its grace period.
        await Promise.race([tracing.shutdown(), sleep(1_000)]);
        logger.info("stopped", { signal });
        logger.flush();
        resolve(0);
      });
    });
  },
});

// Near the descriptor limit, idle kept-alive connections make room for the ones waiting (probes among them).
function _guardDescriptors(listener: Listener, logger: Logger): () => void {
  const count = procDescriptorCount();
  if (!count) return () => {};
  return startDescriptorGuard({
    count,
    closeIdle: () => listener.closeIdleConnections(),
    onPressure: ({ state, ...fields }) =>
      state === "started"
        ? logger.warn("file descriptors near the limit: closing idle connections", fields)
        : logger.warn("file descriptors back under the limit", fields),
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
