// Relays a server stream from the node to the client, and stops reading it the moment the client
// goes away, even if the source is blocked waiting for its next item.

/** Yields `source`'s items until it ends or `signal` aborts; then closes the source. */
export async function* untilAborted<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T, void, undefined> {
  const it = source[Symbol.asyncIterator]();
  let onAbort = (): void => {};
  const aborted = new Promise<"aborted">((resolve) => {
    onAbort = () => resolve("aborted");
    if (signal.aborted) resolve("aborted");
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  let finished = false;
  try {
    for (;;) {
      const next = it.next();
      // If the abort wins the race, `next` may still reject later; it must not become unhandled.
      next.catch(() => {});
      const r = await Promise.race([next, aborted]);
      if (r === "aborted") return;
      if (r.done) {
        finished = true;
        return;
      }
      yield r.value;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    // Not awaited: a source blocked in next() would only run return() after that settles, and the
    // client must not wait for it. A well-behaved source ends on the same signal.
    if (!finished) it.return?.()?.catch(() => {});
  }
}
