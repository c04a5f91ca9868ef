import { useState } from 'preact/hooks';
import { api, reportError } from '../api/api-client.js';
import { can } from '../state/session.js';

/** "Pause queue" / "Resume queue" (`queue-toggle`, admins only): `PATCH /queue {disabled}`. */
export function QueueToggle({ disabled, onChange }: { disabled: boolean; onChange: (disabled: boolean) => void }) {
  const [busy, setBusy] = useState(false);
  if (!can('queue.pause')) return null;
  const toggle = async () => {
    setBusy(true);
    try {
      const attributes = await api<{ disabled?: boolean }>('/queue', { method: 'PATCH', body: { disabled: !disabled } });
      onChange(Boolean(attributes?.disabled ?? !disabled));
    } catch (error) {
      reportError(error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <button type="button" data-testid="queue-toggle" class={disabled ? 'primary' : ''} disabled={busy} onClick={() => void toggle()}>
      {disabled ? 'Resume queue' : 'Pause queue'}
    </button>
  );
}

/** The queue's state as text (`queue-state`): `running` or `paused`. */
export function QueueState({ disabled }: { disabled: boolean }) {
  return (
    <span class={disabled ? 'badge badge-paused' : 'badge badge-running'} data-testid="queue-state">
      {disabled ? 'paused' : 'running'}
    </span>
  );
}
