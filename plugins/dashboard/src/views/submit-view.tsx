import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, reportError } from '../api/api-client.js';
import type { Problem } from '../api/types.js';
import { jobHref } from '../router.js';

/** Wait after the last keystroke before asking the server about the text. */
const CHECK_DELAY_MS = 400;
const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;

/** Placeholder names in the text, in order (used until the server has answered, and when it cannot parse the text). */
function placeholdersIn(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(PLACEHOLDER)) {
    const name = m[1]!.trim();
    if (name) names.add(name);
  }
  return [...names];
}

function problemsOf(error: unknown): Problem[] | undefined {
  if (!(error instanceof ApiError) || error.status !== 400) return undefined;
  const body = error.body as { problems?: Problem[] } | undefined;
  return Array.isArray(body?.problems) && body.problems.length ? body.problems : [{ path: '', message: error.message }];
}

/** The placeholder a problem is about: named by `placeholders`, or a missing variable (`variables.NAME`). */
function problemPlaceholders(problem: Problem): string[] {
  const names = [...(problem.placeholders ?? [])];
  const missing = /^variables\.(.+)$/.exec(problem.path);
  if (missing) names.push(missing[1]!);
  return names;
}

/**
 * Submit a job file (JSON or YAML, pasted or read from a file): the server
 * checks the text as it is typed (`POST /queue/template` with `check`), its
 * `{{ placeholders }}` become inputs, and the server's problems are shown
 * with their paths, next to the placeholder they came from.
 */
export function SubmitView() {
  const [text, setText] = useState('');
  const [placeholders, setPlaceholders] = useState<string[]>([]);
  const [values, setValues] = useState<Record<string, string>>({});
  const [priority, setPriority] = useState('');
  const [problems, setProblems] = useState<Problem[]>([]);
  const [submitted, setSubmitted] = useState(false);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<string | undefined>();
  /** The server could not parse the text (a problem with path `template`). */
  const [unparsable, setUnparsable] = useState(false);
  const checkSeq = useRef(0);

  // Ask the server which placeholders the text has (and whether it parses), shortly after the last change.
  useEffect(() => {
    const mine = ++checkSeq.current;
    if (!text.trim()) {
      setPlaceholders([]);
      setProblems([]);
      setUnparsable(false);
      return;
    }
    setPlaceholders((old) => (old.length ? old : placeholdersIn(text)));
    const timer = setTimeout(async () => {
      try {
        const answer = await api<{ placeholders: string[] }>('/queue/template', { method: 'POST', body: { template: text, check: true } });
        if (mine !== checkSeq.current) return;
        setPlaceholders(answer.placeholders ?? []);
        setProblems([]);
        setUnparsable(false);
      } catch (error) {
        if (mine !== checkSeq.current) return;
        const found = problemsOf(error);
        if (!found) return reportError(error);
        setPlaceholders(placeholdersIn(text));
        setUnparsable(found.some((p) => p.path === 'template'));
        // Unfilled placeholders are expected while typing; the rest (unparsable text, a wrong field) is shown at once.
        setProblems(found.filter((p) => !p.path.startsWith('variables.') && !/unfilled placeholder/.test(p.message)));
      }
    }, CHECK_DELAY_MS);
    return () => clearTimeout(timer);
  }, [text]);

  /**
   * New text (typed, loaded or cleared): what was said about the old text goes. A loaded file (or
   * emptied text) is another job: the priority is reset and values of placeholders it lacks dropped.
   */
  const changeText = (next: string, anotherJob: boolean) => {
    setText(next);
    setCreated(undefined);
    setSubmitted(false);
    if (!anotherJob && next.trim()) return;
    setPriority('');
    const keep = new Set(placeholdersIn(next));
    setValues((old) => Object.fromEntries(Object.entries(old).filter(([name]) => keep.has(name))));
    setPlaceholders((old) => old.filter((name) => keep.has(name)));
    setProblems([]);
  };

  const readFile = (file: File | undefined) => {
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => changeText(String(reader.result ?? ''), true);
    reader.onerror = () => reportError(new Error(`cannot read ${file.name}`));
    reader.readAsText(file);
  };

  const submit = async () => {
    setSubmitted(true);
    setCreated(undefined);
    const prio = priority.trim() === '' ? undefined : Number(priority);
    if (prio !== undefined && !Number.isInteger(prio)) {
      setProblems([{ path: 'priority', message: 'must be a whole number' }]);
      return;
    }
    // Every placeholder needs a value: said here, as the server would say it, without a refused request.
    const missing = placeholders.filter((name) => !values[name]);
    if (missing.length) {
      setProblems(missing.map((name) => ({ path: `variables.${name}`, message: `needs a value for {{ ${name} }}`, placeholders: [name] })));
      return;
    }
    setBusy(true);
    try {
      const variables = Object.fromEntries(placeholders.map((name) => [name, values[name]!]));
      const answer = await api<{ job_id: string }>('/queue/template', {
        method: 'POST',
        body: { template: text, variables, ...(prio !== undefined ? { priority: prio } : {}) },
      });
      setProblems([]);
      setCreated(answer.job_id);
    } catch (error) {
      const found = problemsOf(error);
      if (found) setProblems(found);
      else reportError(error);
    } finally {
      setBusy(false);
    }
  };

  const errorsFor = (name: string) => (submitted ? problems : problems.filter((p) => !p.path.startsWith('variables.'))).filter((p) => problemPlaceholders(p).includes(name));

  return (
    <section>
      <div class="view-head">
        <h1>Submit a job</h1>
      </div>
      <form
        class="submit-form"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <div class="submit-source">
          <label for="submit-text">Job file (JSON or YAML)</label>
          <textarea
            id="submit-text"
            data-testid="submit-text"
            spellcheck={false}
            rows={18}
            placeholder={'job_title: Encode {{ name }}\ntasks:\n  - module: ffmpeg\n    data: { ... }'}
            value={text}
            onInput={(e) => changeText(e.currentTarget.value, false)}
          />
          <label class="file-label">
            Or load a file:{' '}
            <input type="file" accept=".json,.yaml,.yml,application/json,application/yaml" data-testid="submit-file" onChange={(e) => readFile(e.currentTarget.files?.[0])} />
          </label>
        </div>
        <div class="submit-side">
          <h2>Placeholders</h2>
          {placeholders.length ? (
            placeholders.map((name) => {
              const errors = errorsFor(name);
              return (
                <div class="field" key={name}>
                  <label for={`placeholder-${name}`}>{name}</label>
                  <input
                    id={`placeholder-${name}`}
                    type="text"
                    data-testid={`placeholder-${name}`}
                    class={errors.length ? 'mono invalid' : 'mono'}
                    spellcheck={false}
                    autocomplete="off"
                    aria-invalid={errors.length ? true : undefined}
                    value={values[name] ?? ''}
                    onInput={(e) => {
                      const value = e.currentTarget.value;
                      setValues((old) => ({ ...old, [name]: value }));
                    }}
                  />
                  {errors.length ? (
                    <p class="field-error" data-testid={`placeholder-error-${name}`}>
                      {errors.map((p) => p.message).join('; ')}
                    </p>
                  ) : null}
                </div>
              );
            })
          ) : unparsable ? (
            <p class="muted">The job file does not parse yet (see Problems): its {'{{ placeholders }}'} appear here once it does.</p>
          ) : (
            <p class="muted">{text.trim() ? 'This job has no {{ placeholders }}.' : 'Paste or load a job file: its {{ placeholders }} appear here.'}</p>
          )}
          <div class="field">
            <label for="submit-priority">Priority</label>
            <input id="submit-priority" type="number" step={1} data-testid="submit-priority" placeholder="default" value={priority} onInput={(e) => setPriority(e.currentTarget.value)} />
          </div>
          <button type="submit" class="primary" data-testid="submit-button" disabled={busy || !text.trim()}>
            {busy ? 'Submitting…' : 'Submit'}
          </button>
          {created ? (
            <p class="ok-text" data-testid="submit-ok">
              Queued as <a href={jobHref(created)}>{created}</a>
            </p>
          ) : null}
        </div>
      </form>
      {problems.length ? (
        <div class="panel panel-error" data-testid="submit-problems">
          <h2>Problems</h2>
          <ul class="problems">
            {problems.map((p, i) => (
              <li key={i} data-testid="problem" data-path={p.path}>
                {p.path ? <code>{p.path}</code> : null}{' '}
                {/* A parser's message can be several lines (the line of the job file, a caret under the column): kept as they are. */}
                {p.message.includes('\n') ? <pre class="problem-detail">{p.message}</pre> : p.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </section>
  );
}
