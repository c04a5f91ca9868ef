export { type FileIdentity, fileIdentity, sameIdentity, isSameFile, findSameFile, refuseSpecialFile } from './file-identity.js';
export { describeErrno, nearestExistingFolder } from './fs-error.js';
export { type AttemptOwner, type ClaimRecord, CLAIM_REFRESH_MS, CLAIM_STALE_MS, claimPathFor, processGone, processHostId, processStartTicks, readClaim } from './claim-file.js';
export { OutputClaim, type ClaimOptions, type ClaimState, type OutputKind, type VerifyOutput, isSpecialTarget } from './output-claim.js';
export { type OutputFiles, type CheckTargetOptions, checkOutputTarget } from './output-files.js';
export { type TreeRemoval, removeTree, treeRemoval } from './remove-tree.js';
