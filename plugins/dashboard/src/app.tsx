import { useEffect } from 'preact/hooks';
import { ErrorBoundary } from './components/error-boundary.js';
import { ToastHost } from './components/toast-host.js';
import { eventStream } from './events/event-stream.js';
import { useRoute, type RouteName } from './router.js';
import { useObservable } from './state/observable.js';
import { session, signOut, startSession } from './state/session.js';
import { workersStore } from './state/workers-store.js';
import { DataView } from './views/data-view.js';
import { HistoryView } from './views/history-view.js';
import { JobView } from './views/job-view.js';
import { LoginView } from './views/login-view.js';
import { OverviewView } from './views/overview-view.js';
import { QueueView } from './views/queue-view.js';
import { RunningView } from './views/running-view.js';
import { SubmitView } from './views/submit-view.js';
import { WatchView } from './views/watch-view.js';
import { WebhooksView } from './views/webhooks-view.js';
import { WorkersView } from './views/workers-view.js';

const NAV: Array<{ name: Exclude<RouteName, 'job'>; label: string }> = [
  { name: 'overview', label: 'Overview' },
  { name: 'running', label: 'Running' },
  { name: 'queue', label: 'Queue' },
  { name: 'workers', label: 'Workers' },
  { name: 'history', label: 'History' },
  { name: 'submit', label: 'Submit' },
  { name: 'data', label: 'Option sets' },
  { name: 'watch', label: 'Watch' },
  { name: 'webhooks', label: 'Webhooks' },
];

/** The page: the login, or the header with the navigation and the current view. */
export function App() {
  const state = useObservable(session);
  return (
    <>
      {state.phase === 'ready' ? (
        <Shell auth={state.auth} role={state.role} {...(state.name ? { name: state.name } : {})} />
      ) : state.phase === 'login' ? (
        <LoginView {...(state.error ? { error: state.error } : {})} busy={Boolean(state.busy)} />
      ) : state.phase === 'unreachable' ? (
        <main class="center-card">
          <h1>Sisyphus</h1>
          <p class="error-text">The server cannot be reached: {state.message}</p>
          <button type="button" class="primary" onClick={() => void startSession()}>
            Try again
          </button>
        </main>
      ) : (
        <main class="center-card" aria-busy="true">
          <p class="muted">Loading…</p>
        </main>
      )}
      <ToastHost />
    </>
  );
}

/** The signed-in page: header, navigation, the route's view; owns the event stream and the workers store. */
function Shell({ auth, role, name }: { auth: boolean; role: string; name?: string }) {
  const route = useRoute();
  const connection = useObservable(eventStream.connection);
  useEffect(() => {
    eventStream.start();
    workersStore.start();
    return () => {
      workersStore.stop();
      eventStream.stop();
    };
  }, []);
  const active = route.name === 'job' ? 'history' : route.name;
  return (
    <div class="layout">
      <header class="topbar">
        <a class="brand" href="#/overview">
          Sisyphus
        </a>
        <nav class="nav" aria-label="Views">
          {NAV.map((item) => (
            <a
              key={item.name}
              href={`#/${item.name}`}
              data-testid={`nav-${item.name}`}
              class={active === item.name ? 'nav-link active' : 'nav-link'}
              {...(active === item.name ? { 'aria-current': 'page' as const } : {})}
            >
              {item.label}
            </a>
          ))}
        </nav>
        <div class="session">
          <span class={`connection connection-${connection}`} data-testid="connection-state" title="Live updates from the server">
            {connection}
          </span>
          <span class="who" title={auth ? (name ? `Signed in as ${name}` : 'Signed in') : 'Auth is off: every action is allowed'}>
            {name ? <span class="who-name">{name} · </span> : null}
            <span data-testid="whoami">{role}</span>
            {auth ? null : <span class="muted"> (auth off)</span>}
          </span>
          {auth ? (
            <button type="button" class="link-button" data-testid="logout" onClick={signOut}>
              Sign out
            </button>
          ) : null}
        </div>
      </header>
      <main class="content">
        <ErrorBoundary key={route.name === 'job' ? `job:${route.jobId}` : route.name}>
        {route.name === 'overview' && <OverviewView />}
        {route.name === 'running' && <RunningView />}
        {route.name === 'queue' && <QueueView />}
        {route.name === 'workers' && <WorkersView />}
        {route.name === 'history' && <HistoryView />}
        {route.name === 'job' && <JobView key={route.jobId} jobId={route.jobId!} />}
        {route.name === 'submit' && <SubmitView />}
        {route.name === 'data' && <DataView />}
        {route.name === 'watch' && <WatchView />}
        {route.name === 'webhooks' && <WebhooksView />}
        </ErrorBoundary>
      </main>
    </div>
  );
}
