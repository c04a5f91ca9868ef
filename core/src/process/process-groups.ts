/**
 * Process groups of children that are still running. Every child started by
 * the process runner leads its own group, so a cancel can kill grandchildren
 * too, and an exiting CLI can kill whatever is left (see {@link killAllGroups}).
 */
const live = new Set<number>();

/** Remember a running child's process group (its pid). */
export function trackGroup(pid: number): void {
  live.add(pid);
}

/** Forget a group once its leader has exited and it has been dealt with. */
export function untrackGroup(pid: number): void {
  live.delete(pid);
}

/** Send `signal` to a whole process group; false when it no longer exists. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Pids of the process groups started by this process that are still tracked. */
export function liveGroups(): number[] {
  return [...live];
}

/** Kill every tracked group at once (last resort on a forced exit). */
export function killAllGroups(signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const pid of live) signalGroup(pid, signal);
}
