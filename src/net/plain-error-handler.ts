/**
 * The last error handler of the app's express stacks (the signalling routes in every server, server/serve.ts in
 * production): a short plain-text answer naming the status, never a stack trace, a path or the error's text, which
 * express's default handler prints outside production and Vite's error page prints always.
 */
import http from 'node:http';

type ErrorHandler = (error: unknown, req: http.IncomingMessage, res: http.ServerResponse, next: (error?: unknown) => void) => void;

/** The HTTP status an error carries (express sets 400 on a URL it cannot decode), else 500. */
export function errorStatus(error: unknown): number {
  const status = (error as { status?: unknown; statusCode?: unknown } | null)?.status ?? (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599 ? status : 500;
}

/** `log` hears about server faults (5xx) only: a client's malformed request is answered, not logged. */
export function plainErrorHandler(log: (line: string) => void): ErrorHandler {
  // Four parameters: that is how express recognises an error handler.
  return (error, req, res, _next) => {
    const status = errorStatus(error);
    if (status >= 500) log(`${req.method ?? 'request'} failed with ${status}: ${error instanceof Error ? error.message : String(error)}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const body = `${status} ${http.STATUS_CODES[status] ?? 'Error'}\n`;
    res.statusCode = status;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  };
}
