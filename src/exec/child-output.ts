/**
 * What to show of a child's output when it failed (pure). Usually its last lines, where cobra and Helm
 * put the error; but a Go panic prints its cause first (`panic: ...`, the signal, then the goroutine's
 * frames, innermost first) and cobra's and the runtime's frames last, so there the head is what says
 * why: the lines just before the panic, the `panic:` line and the first frames. An `Error:` line above
 * the last lines is kept too.
 */
export function childFailureText(output: string, tail = 8, frames = 3): string {
  const lines = output.split('\n').map((l) => l.replace(/\s+$/, ''));
  const at = lines.findIndex((l) => /^panic: /.test(l));
  if (at >= 0) {
    const out = [...lines.slice(Math.max(0, at - 2), at).filter(Boolean), lines[at]!];
    let seen = 0;
    for (const l of lines.slice(at + 1)) {
      if (seen >= frames) break;
      if (!l.trim()) continue;
      out.push(l);
      if (/^\s+\S+:\d+/.test(l)) seen++;
    }
    return out.join('\n');
  }
  const kept = lines.filter(Boolean);
  const last = kept.slice(-tail);
  const error = kept.find((l) => /^Error:/.test(l.trim()));
  return (error && !last.includes(error) ? [error, '...', ...last] : last).join('\n');
}
