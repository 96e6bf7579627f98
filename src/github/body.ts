/** Thrown when GitHub sends more than the service accepts. */
export class BodyTooLarge extends Error {}

/** Reads a response body as text, refusing (BodyTooLarge) one over `maxBytes` before or while it arrives. */
export async function readCappedText(response: Response, maxBytes: number): Promise<string> {
  const length = response.headers.get("content-length");
  const declared = length === null ? Number.NaN : Number(length);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    throw new BodyTooLarge();
  }
  // A declared length within the cap is read in one piece; only an undeclared one is counted chunk by chunk.
  if (Number.isFinite(declared) && response.headers.get("content-encoding") === null) return response.text();
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new BodyTooLarge();
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(chunks.length === 1 ? chunks[0] : _join(chunks, total));
}

function _join(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
