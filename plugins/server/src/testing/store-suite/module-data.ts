import { describe, expect, it } from 'vitest';
import { TRICKY, type StoreFixture } from './store-fixture.js';

/** Server-side module data: records per module, round-tripped exactly. */
export function describeModuleData(fixture: StoreFixture): void {
  const { store } = fixture;

  describe('module data', () => {
    it('puts, gets, overwrites and deletes records', async () => {
      const record = { name: 'hevc', options: { codec: 'libx265', crf: 19, 'x265-params': { 'aq-mode': 3 } } };
      expect(await store.getData('ffmpeg', 'hevc')).toBeUndefined();
      await store.putData('ffmpeg', 'hevc', record);
      expect(await store.getData('ffmpeg', 'hevc')).toEqual(record);
      const replaced = { name: 'hevc', options: { crf: 22 } };
      await store.putData('ffmpeg', 'hevc', replaced);
      expect(await store.getData('ffmpeg', 'hevc')).toEqual(replaced);
      expect(await store.deleteData('ffmpeg', 'hevc')).toBe(true);
      expect(await store.getData('ffmpeg', 'hevc')).toBeUndefined();
      expect(await store.deleteData('ffmpeg', 'hevc')).toBe(false);
    });

    it('keeps modules apart and lists names per module', async () => {
      await store.putData('ffmpeg', 'a', { v: 1 });
      await store.putData('ffmpeg', 'b', { v: 2 });
      await store.putData('handbrake', 'a', { v: 3 });
      expect([...(await store.listData('ffmpeg'))].sort()).toEqual(['a', 'b']);
      expect(await store.listData('handbrake')).toEqual(['a']);
      expect(await store.listData('mkvmerge')).toEqual([]);
      expect(await store.getData('handbrake', 'a')).toEqual({ v: 3 });
      expect(await store.deleteData('handbrake', 'b')).toBe(false);
      expect(await store.deleteData('handbrake', 'a')).toBe(true);
      expect(await store.getData('ffmpeg', 'a')).toEqual({ v: 1 });
    });

    it('round-trips nested values, unicode and HTML specials exactly', async () => {
      const record = {
        text: TRICKY,
        deep: { a: { b: { c: [1, -2.25, 1e21, null, true, false, '', [], {}] } } },
        [TRICKY]: TRICKY,
        empty: {},
      };
      await store.putData('ffmpeg', TRICKY, record);
      expect(await store.getData('ffmpeg', TRICKY)).toEqual(record);
      expect(await store.listData('ffmpeg')).toEqual([TRICKY]);
    });
  });
}
