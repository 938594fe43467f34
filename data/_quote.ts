// Text from a data file in an error message. A cell can be megabytes long
// (a missing closing quote swallows the rest of the file into one field);
// the message shows its start and its length, never all of it.

/** Characters of a value shown in a message. */
export const QUOTE_MAX = 40;

/** `text` JSON-quoted, cut to {@linkcode QUOTE_MAX} characters with its length. */
export function quoted(text: string): string {
  if (text.length <= QUOTE_MAX) return JSON.stringify(text);
  return `${
    JSON.stringify(text.slice(0, QUOTE_MAX))
  }... (${text.length} characters)`;
}

/** `text` as is, cut like {@linkcode quoted}. */
export function clipped(text: string): string {
  if (text.length <= QUOTE_MAX) return text;
  return `${text.slice(0, QUOTE_MAX)}... (${text.length} characters)`;
}
