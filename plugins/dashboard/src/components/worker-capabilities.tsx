import type { WorkerCapabilities } from '../api/types.js';

const names = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/**
 * A worker's `capabilities` as shown: every kind a list of strings (binaries
 * `[name, version]` pairs), whatever the heartbeat held (it is the worker's
 * word, not checked by the server); undefined when it advertises none.
 */
export function readCapabilities(value: unknown): (Omit<WorkerCapabilities, 'binaries'> & { binaries: Array<[string, string]> }) | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const binaries = typeof v.binaries === 'object' && v.binaries !== null && !Array.isArray(v.binaries) ? v.binaries : {};
  return {
    modules: names(v.modules),
    binaries: Object.entries(binaries).map(([name, version]): [string, string] => [name, typeof version === 'string' ? version : '']),
    encoders: names(v.encoders),
    hwaccels: names(v.hwaccels),
    gpus: names(v.gpus),
    tags: names(v.tags),
  };
}

type Capabilities = NonNullable<ReturnType<typeof readCapabilities>>;

const binaryList = (caps: Capabilities) => caps.binaries.map(([name, version]) => (version ? `${name} ${version}` : name)).join(' · ');

/**
 * The Capabilities cell of a worker: its tags, GPUs, binaries with their
 * versions (cut, whole in the tooltip) and a button with the count of its
 * encoders that opens the full list ({@link CapabilitiesDetail}).
 */
export function CapabilitiesCell({ value, open, onToggle }: { value: unknown; open: boolean; onToggle: () => void }) {
  const caps = readCapabilities(value);
  if (!caps) return <span class="muted" title="This worker advertises no capabilities: it gets only jobs without requires of their own">—</span>;
  const binaries = binaryList(caps);
  return (
    <div class="caps" data-testid="worker-caps">
      {caps.tags.length || caps.gpus.length ? (
        <div class="caps-line">
          {caps.tags.map((tag) => (
            <span key={tag} class="chip" data-testid="worker-tag">
              {tag}
            </span>
          ))}
          {caps.gpus.map((gpu) => (
            <span key={gpu} class="chip chip-gpu" data-testid="worker-gpu" title="GPU device present">
              GPU {gpu}
            </span>
          ))}
        </div>
      ) : null}
      {binaries ? (
        <span class="sub ellipsis" data-testid="worker-binaries" title={binaries}>
          {binaries}
        </span>
      ) : null}
      <button type="button" class="link-button caps-toggle" data-testid="worker-caps-toggle" aria-expanded={open} onClick={onToggle}>
        {`${caps.encoders.length} encoder${caps.encoders.length === 1 ? '' : 's'}${caps.hwaccels.length ? ` · ${caps.hwaccels.length} hwaccel${caps.hwaccels.length === 1 ? '' : 's'}` : ''} ${open ? '▴' : '▾'}`}
      </button>
    </div>
  );
}

/** Everything a worker advertises, each kind in full (the row under an opened worker). */
export function CapabilitiesDetail({ value }: { value: unknown }) {
  const caps = readCapabilities(value);
  if (!caps) return null;
  const list = (items: string[]) => (items.length ? items.join(' ') : '—');
  return (
    <dl class="facts caps-detail" data-testid="worker-caps-detail">
      <dt>Tags</dt>
      <dd>{list(caps.tags)}</dd>
      <dt>GPUs</dt>
      <dd>{list(caps.gpus)}</dd>
      <dt>Binaries</dt>
      <dd>{binaryList(caps) || '—'}</dd>
      <dt>Modules</dt>
      <dd>{list(caps.modules)}</dd>
      <dt>HW acceleration</dt>
      <dd class="mono">{list(caps.hwaccels)}</dd>
      <dt>Encoders ({caps.encoders.length})</dt>
      <dd class="mono caps-encoders" data-testid="worker-encoders">
        {list(caps.encoders)}
      </dd>
    </dl>
  );
}
