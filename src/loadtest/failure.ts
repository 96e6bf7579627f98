/** Why a request got no answer, in a user's words: "connection refused", "host not found", or the error's own message. */
export function failureReason(error: unknown): string {
  const text = _describe(error);
  if (/ECONNREFUSED|connection refused/i.test(text)) return "connection refused";
  if (/ENOTFOUND|EAI_AGAIN|dns error|name or service not known|name resolution/i.test(text)) return "host not found";
  if (/ETIMEDOUT|timed out/i.test(text)) return "connect timed out";
  if (/ECONNRESET|reset by peer/i.test(text)) return "connection reset";
  if (/closed before an answer/i.test(text)) return "connection closed before an answer";
  if (/closed mid-answer/i.test(text)) return "connection closed mid-answer";
  if (/abort/i.test(text)) return "still waiting when the run ended";
  return (error instanceof Error ? error.message : String(error)).split("\n")[0] || "unknown error";
}

// Bun puts the code on the error, Deno nests the OS error in `cause`: read both.
function _describe(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    parts.push(String(code ?? ""), String(message ?? current));
    current = cause;
  }
  return parts.join(" ");
}
