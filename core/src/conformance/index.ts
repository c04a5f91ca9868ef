/**
 * Conformance suites (vitest) that every implementation of a core contract
 * runs: `@sisyphus/core/conformance`. Needs vitest, an optional peer.
 */
export { describeTransport, type TransportHarness } from './transport-conformance.js';
