/**
 * A wake-up latch for polling loops: `wait()` resolves on the next `wake()` or after `pollMs` (or
 * the `ms` it is given), whichever is first. A wake that arrives while nobody waits is remembered once.
 */
export function createWaker(pollMs: number) {
  let pending = false;
  let resolveWait: (() => void) | null = null;
  return {
    wake(): void {
      if (resolveWait) {
        const r = resolveWait;
        resolveWait = null;
        r();
      } else pending = true;
    },
    wait(ms: number = pollMs): Promise<void> {
      if (pending) {
        pending = false;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          resolveWait = null;
          resolve();
        }, ms);
        resolveWait = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
  };
}
