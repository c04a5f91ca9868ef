import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, reportError } from '../api/api-client.js';
import type { DataIndex } from '../api/types.js';
import { useGeneration, useServerEvents } from '../events/use-server-events.js';
import { can } from '../state/session.js';
import { toast } from '../state/toast.js';
import { useCoalesced } from '../state/use-coalesced.js';

/** A record being viewed or edited: saved already, or new. */
interface Open {
  module: string;
  name: string;
  isNew: boolean;
}

/** The refusal of a new record whose name is taken. */
const exists = (module: string, name: string) => `${module}/${name} exists already: open it from the list`;

/** Check the editor's text: a JSON object, or the reason it is not one. */
function parseRecord(text: string): { value?: Record<string, unknown>; error?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `Invalid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'A record must be a JSON object ({ ... })' };
  return { value: value as Record<string, unknown> };
}

/** The server's rule for a record name: letters, digits, `_`, `.` or `-`, at most 128, not starting with `.` or `-`. */
const NAME_RULE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Why `name` cannot name a record, in plain words (the server's rule, checked before anything is sent); `undefined` when it can. */
function nameProblem(name: string): string | undefined {
  if (NAME_RULE.test(name)) return undefined;
  if (!name) return 'Enter a name for the new record';
  if (name.length > 128) return `A name is at most 128 characters long (this one has ${name.length})`;
  const bad = [...new Set(name.replace(/[A-Za-z0-9_.-]/g, ''))].map((c) => (c === ' ' ? 'spaces' : `"${c}"`));
  if (bad.length) return `A name may only have letters, digits, "_", "." and "-" (not ${bad.join(', ')})`;
  return 'A name cannot start with "." or "-"';
}

/**
 * Option sets (server-side module data, `GET /data`): pick a module, list
 * its records, view one as JSON; admins edit (checked with JSON.parse before
 * it is sent), create and delete them.
 */
export function DataView() {
  const [index, setIndex] = useState<DataIndex | undefined>();
  const [module, setModule] = useState('');
  const [open, setOpen] = useState<Open | undefined>();
  const [text, setText] = useState('');
  const [error, setErrorText] = useState<string | undefined>();
  /** A refused new name: shown under the name field, instead of (never beside) an error of the record. */
  const [nameError, setNameErrorText] = useState<string | undefined>();
  const setError = (text: string | undefined) => {
    setErrorText(text);
    if (text) setNameErrorText(undefined);
  };
  const setNameError = (text: string | undefined) => {
    setNameErrorText(text);
    if (text) setErrorText(undefined);
  };
  const [newName, setNewName] = useState('');
  const [busy, setBusy] = useState(false);
  const seq = useRef(0);
  const recordSeq = useRef(0);
  const generation = useGeneration();
  const admin = can('data.write');
  const names = index?.modules.find((m) => m.module === module)?.names ?? [];

  const loadIndex = async () => {
    const mine = ++seq.current;
    try {
      const next = await api<DataIndex>('/data');
      if (mine !== seq.current) return;
      setIndex(next);
      setModule((current) =>
        current && next.modules.some((m) => m.module === current) ? current : (next.modules.find((m) => m.names.length) ?? next.modules[0])?.module ?? '',
      );
    } catch (err) {
      if (mine === seq.current) reportError(err);
    }
  };
  const reloadIndex = useCoalesced(() => void loadIndex(), 1000);
  useEffect(() => void loadIndex(), [generation]);
  useServerEvents((event) => {
    if (event.type !== 'data.changed') return;
    reloadIndex();
    if (open && !open.isNew && event.module === open.module && event.name === open.name && event.deleted) {
      toast(`${open.module}/${open.name} was deleted`);
      setOpen(undefined);
    }
  });

  const openRecord = async (name: string) => {
    const mine = ++recordSeq.current;
    setError(undefined);
    try {
      const record = await api<unknown>(`/data/${encodeURIComponent(module)}/${encodeURIComponent(name)}`);
      if (mine !== recordSeq.current) return;
      setOpen({ module, name, isNew: false });
      setText(JSON.stringify(record, null, 2));
    } catch (err) {
      if (mine === recordSeq.current) reportError(err);
    }
  };

  const startNew = () => {
    const name = newName.trim();
    const problem = nameProblem(name);
    if (problem) {
      setNameError(problem);
      return;
    }
    // Never a fresh record over a stored one the user has not seen.
    if (names.includes(name)) {
      setNameError(exists(module, name));
      return;
    }
    recordSeq.current++;
    setError(undefined);
    setNameError(undefined);
    setOpen({ module, name, isNew: true });
    setText(module === 'ffmpeg' ? '{\n  "options": {}\n}' : '{\n  \n}');
    setNewName('');
  };

  const save = async () => {
    if (!open) return;
    const parsed = parseRecord(text);
    if (parsed.error) {
      setError(parsed.error);
      return;
    }
    setError(undefined);
    setBusy(true);
    try {
      if (open.isNew) {
        // Created by someone else since "New" was pressed? Then saving would overwrite what nobody here has seen.
        const now = await api<{ names?: string[] }>(`/data/${encodeURIComponent(open.module)}`);
        if (now.names?.includes(open.name)) {
          setError(exists(open.module, open.name));
          reloadIndex();
          return;
        }
      }
      await api(`/data/${encodeURIComponent(open.module)}/${encodeURIComponent(open.name)}`, { method: 'POST', body: parsed.value });
      toast(`Saved ${open.module}/${open.name}`);
      setOpen({ ...open, isNew: false });
      reloadIndex();
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) {
        const problems = (err.body as { problems?: Array<{ path: string; message: string }> } | undefined)?.problems;
        setError(problems?.length ? problems.map((p) => `${p.path ? `${p.path}: ` : ''}${p.message}`).join('\n') : err.message);
      } else reportError(err);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!open || open.isNew) return;
    if (!confirm(`Delete ${open.module}/${open.name}? Jobs that name it will fail.`)) return;
    setBusy(true);
    try {
      await api(`/data/${encodeURIComponent(open.module)}/${encodeURIComponent(open.name)}`, { method: 'DELETE' });
      toast(`Deleted ${open.module}/${open.name}`);
      setOpen(undefined);
      reloadIndex();
    } catch (err) {
      reportError(err);
    } finally {
      setBusy(false);
    }
  };

  if (!index) return <p class="muted">Loading…</p>;

  return (
    <section>
      <div class="view-head">
        <h1>Option sets</h1>
        <div class="actions">
          <label class="inline-label">
            Module{' '}
            <select
              data-testid="data-module"
              value={module}
              onChange={(e) => {
                setModule(e.currentTarget.value);
                setOpen(undefined);
                setError(undefined);
                setNameError(undefined);
              }}
            >
              {index.modules.map((m) => (
                <option key={m.module} value={m.module}>
                  {m.module} ({m.names.length})
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      {index.modules.length === 0 ? (
        <p class="empty">No module keeps server-side data.</p>
      ) : (
        <div class="data-layout">
          <div class="data-list">
            <ul class="name-list" aria-label={`Records of ${module}`}>
              {names.map((name) => (
                <li key={name} data-testid="data-row" data-name={name}>
                  <button
                    type="button"
                    class={open?.name === name && open.module === module ? 'name-button active' : 'name-button'}
                    title={name}
                    onClick={() => void openRecord(name)}
                  >
                    {name}
                  </button>
                </li>
              ))}
            </ul>
            {names.length ? null : <p class="empty">No records for {module}</p>}
            {admin ? (
              <form
                class="new-record"
                onSubmit={(e) => {
                  e.preventDefault();
                  startNew();
                }}
              >
                <input
                  type="text"
                  data-testid="data-new-name"
                  placeholder="New record name"
                  aria-label="New record name"
                  title={'Letters, digits, "_", "." and "-", at most 128; not starting with "." or "-"'}
                  aria-invalid={nameError ? true : undefined}
                  value={newName}
                  onInput={(e) => {
                    setNewName(e.currentTarget.value);
                    setNameError(undefined);
                  }}
                />
                <button type="submit" data-testid="data-new">
                  New
                </button>
              </form>
            ) : null}
            {admin && nameError ? (
              <p class="error-text new-record-error" role="alert" data-testid="data-error">
                {nameError}
              </p>
            ) : null}
          </div>
          <div class="data-editor">
            {open ? (
              <>
                <h2>
                  {open.module}/{open.name}
                  {open.isNew ? <span class="muted"> (new, not saved)</span> : null}
                </h2>
                <textarea
                  data-testid="data-editor"
                  spellcheck={false}
                  rows={20}
                  readOnly={!admin}
                  aria-label={`JSON of ${open.module}/${open.name}`}
                  value={text}
                  onInput={(e) => {
                    setText(e.currentTarget.value);
                    setError(undefined);
                  }}
                />
                {error ? (
                  <pre class="error-text" role="alert" data-testid="data-error">
                    {error}
                  </pre>
                ) : null}
                {admin ? (
                  <div class="editor-buttons">
                    <button type="button" class="primary" data-testid="data-save" disabled={busy} onClick={() => void save()}>
                      Save
                    </button>
                    {open.isNew ? null : (
                      <button type="button" class="danger" data-testid="data-delete" disabled={busy} onClick={() => void remove()}>
                        Delete
                      </button>
                    )}
                  </div>
                ) : null}
              </>
            ) : (
              <>
                {error ? (
                  <p class="error-text" role="alert" data-testid="data-error">
                    {error}
                  </p>
                ) : null}
                <p class="muted">Pick a record to see its JSON{admin ? ', or create a new one' : ''}.</p>
              </>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
