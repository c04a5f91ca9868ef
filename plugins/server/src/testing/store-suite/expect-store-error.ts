import { expect } from 'vitest';
import { isStoreError, type StoreError, type StoreErrorCode } from '../../store/store-error.js';

/** What `promise` rejected with; fails the test when it resolved. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  return expect.fail('expected a rejection, but it resolved');
}

/** Expect `promise` to reject with a `StoreError` of `code` (a generic error with another or no code fails). */
export async function expectStoreError(promise: Promise<unknown>, code: StoreErrorCode): Promise<StoreError> {
  const error = await rejectionOf(promise);
  expect(isStoreError(error, code), `expected a StoreError ${code}, got ${String(error)} (code ${String((error as { code?: unknown } | null)?.code)})`).toBe(true);
  expect((error as StoreError).code).toBe(code);
  return error as StoreError;
}
