// Lines a bench worker reports to the driver (`start ID MS`, `done ID MS`),
// written once per event-loop turn: a pipe write per line cost a busy worker
// about 25 us per line, which is the bench's overhead, not the system's. The
// times in the lines are taken when the event happens, so batching changes
// no measurement. Both the Sisyphus and the raw BullMQ bench workers use it.
export function lineWriter(stream = process.stdout) {
  let lines = [];
  return (line) => {
    if (lines.push(line) > 1) return;
    setImmediate(() => {
      const out = lines.join('');
      lines = [];
      stream.write(out);
    });
  };
}
