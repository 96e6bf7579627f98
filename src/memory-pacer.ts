/**
 * Keeps resident memory near what the cache holds. Every cache fill parses a GitHub page (tens of KB) into
 * short-lived objects; left to the collector's own pace, a burst of thousands of fills leaves hundreds of
 * MB resident. A full collection after each `everyBytes` of upstream bodies bounds that garbage (measured in
 * the README's performance section).
 */
export function createMemoryPacer(everyBytes: number, collect: () => void) {
  let sinceLast = 0;
  return {
    /** Counts `size` bytes of upstream body; collects once enough have gone by. */
    received(size: number): void {
      sinceLast += size;
      if (sinceLast < everyBytes) return;
      sinceLast = 0;
      collect();
    },
  };
}
