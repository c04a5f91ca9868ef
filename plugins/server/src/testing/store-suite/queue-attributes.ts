import { describe, expect, it } from 'vitest';
import { T0, TRICKY, type StoreFixture } from './store-fixture.js';

/** Queue attributes: merged patches, `disabled` always a boolean. */
export function describeQueueAttributes(fixture: StoreFixture): void {
  const { store } = fixture;

  describe('queue attributes', () => {
    it('default to not disabled', async () => {
      expect(await store.queueAttributes()).toEqual({ disabled: false });
    });

    it('merge patches and answer the result', async () => {
      expect(await store.setQueueAttributes({ disabled: true })).toEqual({ disabled: true });
      expect(await store.setQueueAttributes({ note: TRICKY, nested: { a: [1] } })).toEqual({
        disabled: true,
        note: TRICKY,
        nested: { a: [1] },
      });
      expect(await store.queueAttributes()).toEqual({ disabled: true, note: TRICKY, nested: { a: [1] } });
      expect(await store.setQueueAttributes({ disabled: false })).toEqual({ disabled: false, note: TRICKY, nested: { a: [1] } });
      expect(await store.queueAttributes()).toEqual({ disabled: false, note: TRICKY, nested: { a: [1] } });
    });

    it('always carry disabled as a boolean', async () => {
      const attributes = await store.setQueueAttributes({ other: 1 });
      expect(attributes).toEqual({ disabled: false, other: 1 });
      expect(typeof (await store.queueAttributes()).disabled).toBe('boolean');
    });

    it('are not the attributes of any worker', async () => {
      await store.setQueueAttributes({ disabled: true });
      expect((await store.worker('w1', T0)).attributes).toEqual({ disabled: false });
      await store.setWorkerAttributes('w1', { disabled: true });
      await store.setQueueAttributes({ disabled: false });
      expect((await store.worker('w1', T0)).attributes.disabled).toBe(true);
    });
  });
}
