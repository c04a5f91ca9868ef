import { render } from 'preact';
import { App } from './app.js';
import { startSession } from './state/session.js';
import './styles.css';

render(<App />, document.getElementById('app')!);
void startSession();
