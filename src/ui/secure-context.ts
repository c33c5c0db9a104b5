/** Why WebGPU (and crypto.subtle) may be missing: the page is not a secure context (plain HTTP on a LAN address). */
export function secureContextNote(w: { isSecureContext: boolean; location: { protocol: string; hostname: string } }): string | null {
  if (w.isSecureContext) return null;
  return (
    `This page is plain HTTP on ${w.location.hostname}, which is not a secure context, so the browser hides WebGPU here ` +
    '(training falls back to WebGL or the CPU). For GPU training on other devices, start the app in HTTPS mode ' +
    '(npm run dev:https, or FEDTAB_HTTPS=1 npm start) and open the https:// address; accept the self-signed certificate once.'
  );
}
