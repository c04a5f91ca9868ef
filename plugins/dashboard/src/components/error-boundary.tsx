import { Component, type ComponentChildren } from 'preact';

/** Keeps a view's rendering error inside the view: the header and navigation stay usable. */
export class ErrorBoundary extends Component<{ children: ComponentChildren }, { error?: Error | undefined }> {
  override state: { error?: Error | undefined } = {};

  override componentDidCatch(error: Error): void {
    this.setState({ error });
  }

  override render() {
    const { error } = this.state;
    if (!error) return this.props.children;
    return (
      <div class="panel panel-error" role="alert">
        <h2>This view failed</h2>
        <p class="error-text">{error.message}</p>
        <button type="button" onClick={() => this.setState({ error: undefined })}>
          Try again
        </button>
      </div>
    );
  }
}
