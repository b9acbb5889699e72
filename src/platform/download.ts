/** Reads a body to the end, or stops and returns undefined as soon as it exceeds `maxBytes`. */
export async function readLimited(body: AsyncIterable<Uint8Array> | null | undefined, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (!body) return Buffer.alloc(0);
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > maxBytes) {
      // Stop reading: the rest of a file we will refuse is not worth the bandwidth.
      const destroy = (body as { destroy?: () => void }).destroy;
      if (typeof destroy === 'function') destroy.call(body);
      return undefined;
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
