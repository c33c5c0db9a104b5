/** Tests over real sockets: waits until `condition` holds, polling; the 10 s bound only stops a hang, whatever the machine's load. */
export async function eventually(condition: () => boolean, what: string): Promise<void> {
  for (const started = Date.now(); !condition(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() - started > 10_000) throw new Error(`never happened: ${what}`);
  }
}
