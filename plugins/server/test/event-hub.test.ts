import { describe, expect, it } from 'vitest';
import { EventHub } from '../src/event-hub.js';
import type { EventRead, NewQueueEvent, QueueEvent, QueueEventLog } from '../src/store/queue-store.js';

/** A log in memory whose append notifications the test delivers when it wants (a slow tail, a busy server). */
class HeldLog implements QueueEventLog {
  events: QueueEvent[] = [];
  listeners: Array<() => void> = [];
  reads = 0;
  async append(events: readonly NewQueueEvent[]): Promise<string[]> {
    return events.map((event) => {
      const id = String(this.events.length + 1);
      this.events.push({ ...event, id });
      return id;
    });
  }
  async read(after: string | undefined, limit: number): Promise<EventRead> {
    this.reads++;
    const from = after === undefined ? 0 : Number(after);
    if (!Number.isInteger(from) || from > this.events.length) return { events: this.events.slice(0, limit), reset: true };
    return { events: this.events.slice(from, from + limit), reset: false };
  }
  async last(): Promise<string | undefined> {
    return this.events.length ? String(this.events.length) : undefined;
  }
  onAppend(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => undefined;
  }
  notify(): void {
    for (const listener of this.listeners) listener();
  }
}

const event = (n: number): NewQueueEvent => ({ type: 'job.submitted', at: n, data: { n } });
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('EventHub', () => {
  it('a subscriber resuming with Last-Event-ID gets each event once, also when its replay read past the hub', async () => {
    const log = new HeldLog();
    await log.append([1, 2, 3, 4, 5].map(event));
    const hub = new EventHub(log);
    await hub.start();
    // Appended, but the hub has not heard of it yet (its tail is behind).
    await log.append([6, 7, 8].map(event));
    const got: string[] = [];
    await hub.subscribe({ send: (e) => got.push(e.id), reset: () => got.push('reset') }, '3');
    expect(got).toEqual(['4', '5', '6', '7', '8']);
    log.notify(); // the hub now hands out 6..8 (which the replay sent) and, later, 9
    await settle();
    await log.append([event(9)]);
    log.notify();
    await settle();
    expect(got).toEqual(['4', '5', '6', '7', '8', '9']);
  });

  it('stops replaying for a subscriber that went away', async () => {
    const log = new HeldLog();
    await log.append(Array.from({ length: 2000 }, (_, i) => event(i)));
    const hub = new EventHub(log);
    await hub.start();
    const before = log.reads;
    let sent = 0;
    let closed = false;
    await hub.subscribe({ send: () => void (++sent === 100 && (closed = true)), reset: () => undefined, closed: () => closed }, '0');
    expect(sent).toBeLessThanOrEqual(200); // one page at most after it closed
    expect(log.reads - before).toBeLessThanOrEqual(2);
  });
});
