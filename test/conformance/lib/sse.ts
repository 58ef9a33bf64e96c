/** A strict text/event-stream parser (WHATWG framing: fields, blank-line dispatch). */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export function parseSse(text: string): { events: SseEvent[]; trailing: string } {
  const events: SseEvent[] = [];
  // Normalise line endings as the spec allows CRLF, LF or CR.
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  let pending = false;
  const trailing: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') {
      if (pending) events.push({ event: event || 'message', data: data.join('\n'), ...(id !== undefined ? { id } : {}) });
      event = '';
      data = [];
      id = undefined;
      pending = false;
      trailing.length = 0;
      continue;
    }
    trailing.push(line);
    if (line.startsWith(':')) continue; // comment / keep-alive
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    pending = true;
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
    // retry and unknown fields are ignored
  }
  // The text ends with "\n", so the last split element is "" and nothing is pending
  // unless the last event was not terminated by a blank line.
  return { events, trailing: pending ? trailing.join('\n') : '' };
}
