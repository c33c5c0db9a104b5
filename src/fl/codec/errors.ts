/** Bad bytes or a bad message from a peer (or a caller). The message names what is wrong. */
export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
}

/** A peer-supplied value for an error message: JSON, cut short so a hostile value cannot flood logs. */
export function quoteForReason(x: unknown, maxChars = 40): string {
  let text: string;
  try {
    text = JSON.stringify(x) ?? String(x);
  } catch {
    text = String(x);
  }
  return text.length > maxChars ? `${text.slice(0, maxChars)}...` : text;
}
