/**
 * Ends a switch over a union: `default: return assertNever(x)` compiles only when every member has its case, so a
 * new member (a new message type, say) that the switch misses fails to compile. Reaching it at run time means a
 * value outside its type got in; that is a bug, reported by throwing.
 */
export function assertNever(value: never, what = 'value'): never {
  const shown = typeof value === 'object' && value !== null && 'type' in value ? `type "${String((value as { type: unknown }).type)}"` : String(value);
  throw new Error(`unexpected ${what}: ${shown}`);
}
