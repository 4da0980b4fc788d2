/**
 * Waits until dropped native memory has been given back: full collections until the finalizers
 * of external memory have run (they may wait for a later tick), then time for the addon's
 * trimming thread, which returns freed memory to the OS at most once per 500 ms
 * (crates/core/src/memory.rs). Needs `--expose-gc`.
 */
export async function settleNativeMemory(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('global.gc is missing: run node with --expose-gc');
  for (let i = 0; i < 6; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 1200));
}
