/** A deployment step's transaction, awaited: a revert becomes the caller's typed error. */
export async function mined(
  tx: Promise<{ wait(): Promise<{ status: number | null; hash: string } | null> }>,
  what: string,
  fail: (message: string) => Error,
): Promise<void> {
  const receipt = await (await tx).wait();
  if (!receipt || receipt.status !== 1) throw fail(`${what} reverted (${receipt?.hash ?? 'no receipt'})`);
}
