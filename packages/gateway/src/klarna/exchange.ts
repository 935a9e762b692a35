/**
 * One HTTP exchange with Klarna through undici's dispatcher API: the request sent, the answer's
 * status, headers and body text read, all under one deadline (waiting for a connection, connecting,
 * headers and body together).
 *
 * `Pool.request` would do the same with a `Readable` for the body, an `AsyncResource` per request
 * and an `AbortSignal` (with its listeners) for the deadline; the payment path makes two calls per
 * payment, and those layers cost more than the rest of the call's own code. Here the body is
 * collected as it arrives and the deadline is a timer that aborts the exchange.
 */
import type { Dispatcher } from "undici";

/** An answer of any status: the caller decides what a status means. */
export interface Exchanged {
  status: number;
  headers: Dispatcher.ResponseData["headers"];
  text: string;
}

/** The deadline's error: the same a timed-out `AbortSignal.timeout` gives. */
function timeoutError(): DOMException {
  return new DOMException("The operation was aborted due to timeout", "TimeoutError");
}

const utf8 = new TextDecoder();

/**
 * Sends `request` through `dispatcher` and resolves with the whole answer, or rejects with undici's
 * error (network, undici's own timeouts) or, after `deadlineMs`, with a `TimeoutError`. A request
 * still waiting for a connection when the deadline passes is aborted when it would start, so it is
 * never sent.
 */
export function exchange(
  dispatcher: Dispatcher,
  request: Dispatcher.DispatchOptions,
  deadlineMs: number,
): Promise<Exchanged> {
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    let status = 0;
    let headers: Exchanged["headers"] = {};
    const chunks: Buffer[] = [];
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    };
    const timer = setTimeout(() => {
      const error = timeoutError();
      fail(error);
      controller?.abort(error);
    }, deadlineMs);
    timer.unref();
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(started) {
        if (settled) started.abort(timeoutError());
        else controller = started;
      },
      // Also called for 1xx answers; the final answer's call comes last.
      onResponseStart(_, statusCode, responseHeaders) {
        status = statusCode;
        headers = responseHeaders;
      },
      onResponseData(_, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        resolve({ status, headers, text: utf8.decode(body) });
      },
      onResponseError(_, error) {
        fail(error);
      },
    };
    try {
      dispatcher.dispatch(request, handler);
    } catch (error) {
      fail(error instanceof Error ? error : new Error(String(error)));
    }
  });
}
