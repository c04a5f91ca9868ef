import type { DependencyContainer } from './di.js';

/**
 * Dispose a container, skipping the work when it made nothing disposable:
 * tsyringe keeps the disposable instances it resolved in `disposables`, and
 * its `dispose()` always costs an async function and a `Promise.all`, which
 * a worker running hundreds of short jobs a second pays per task. Anything
 * else (another tsyringe version) is disposed the ordinary way.
 */
export async function disposeContainer(container: DependencyContainer): Promise<void> {
  const made = (container as { disposables?: unknown }).disposables;
  if (made instanceof Set && made.size === 0) {
    (container as { disposed?: boolean }).disposed = true;
    return;
  }
  await container.dispose();
}
