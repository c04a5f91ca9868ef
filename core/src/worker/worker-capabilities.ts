/**
 * What a worker can do, as it advertises it in its heartbeats (capability
 * routing): found at start-up (see `detectWorkerCapabilities`) plus the
 * tags of its config. The server compares its flat form
 * ({@link capabilityList}) with what a job requires.
 */
export interface WorkerCapabilities {
  /** Modules the worker has loaded. */
  modules: string[];
  /** Programs found and their versions (`name -> version`, `unknown` when it could not be read). */
  binaries: Record<string, string>;
  /** Encoders the worker can use (ffmpeg's names; hardware ones only with a device to run them). */
  encoders: string[];
  /** Hardware acceleration methods the worker can use (ffmpeg's `-hwaccels` names). */
  hwaccels: string[];
  /** GPU vendors with a device present: `nvidia`, `intel`, `amd`. */
  gpus: string[];
  /** The operator's tags (`worker.tags`, `--tag`), lower case. */
  tags: string[];
}

/** Tags in config, flags and job documents: a letter or digit, then letters, digits, `.`, `_`, `-` (compared in lower case). */
export const TAG_PATTERN = /^[a-z0-9][a-z0-9._-]*$/i;

/** Longest name kept from an untrusted capabilities object, and most entries per kind (see {@link readWorkerCapabilities}). */
const MAX_NAME = 200;
const MAX_ENTRIES = 2000;

const names = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v !== '' && v.length <= MAX_NAME).slice(0, MAX_ENTRIES) : [];

/**
 * A {@link WorkerCapabilities} from untrusted input (a heartbeat body):
 * `undefined` unless `value` is an object; otherwise every kind that is
 * not a list of names (or, for `binaries`, an object of version strings)
 * is taken as empty, and overlong names and lists are cut. For a server
 * reading `capabilities` from a heartbeat.
 */
export function readWorkerCapabilities(value: unknown): WorkerCapabilities | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const binaries: Record<string, string> = {};
  if (typeof v.binaries === 'object' && v.binaries !== null && !Array.isArray(v.binaries)) {
    for (const [name, version] of Object.entries(v.binaries).slice(0, MAX_ENTRIES)) {
      if (name !== '' && name.length <= MAX_NAME && typeof version === 'string') binaries[name] = version.slice(0, MAX_NAME);
    }
  }
  return { modules: names(v.modules), binaries, encoders: names(v.encoders), hwaccels: names(v.hwaccels), gpus: names(v.gpus), tags: names(v.tags) };
}

/**
 * The flat form routing compares: sorted, unique `kind:value` strings
 * (`module:ffmpeg`, `binary:ffmpeg`, `encoder:hevc_nvenc`, `hwaccel:cuda`,
 * `gpu:nvidia`, `tag:gpu`); tags in lower case. What the server's stores
 * take as `LeaseOptions.capabilities`. Takes untrusted input too (see
 * {@link readWorkerCapabilities}): what is not a list of names is skipped.
 */
export function capabilityList(capabilities: Partial<WorkerCapabilities>): string[] {
  const c = readWorkerCapabilities(capabilities) ?? readWorkerCapabilities({})!;
  const all = new Set<string>();
  for (const m of c.modules) all.add(`module:${m}`);
  for (const b of Object.keys(c.binaries)) all.add(`binary:${b}`);
  for (const e of c.encoders) all.add(`encoder:${e}`);
  for (const h of c.hwaccels) all.add(`hwaccel:${h}`);
  for (const g of c.gpus) all.add(`gpu:${g}`);
  for (const t of c.tags) all.add(`tag:${t.toLowerCase()}`);
  return [...all].sort();
}
