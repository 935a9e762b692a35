import type { KlarnaErrorCode, KlarnaInteroperabilityErrorShape } from "./types.ts";

/**
 * The one error type the SDK throws. `code` says what went wrong in a way a page can switch on;
 * `field` names the offending input or query parameter when there is one.
 */
export class KlarnaInteroperabilityError extends Error implements KlarnaInteroperabilityErrorShape {
  override readonly name = "KlarnaInteroperabilityError" as const;
  readonly code: KlarnaErrorCode;
  readonly field?: string;
  readonly httpStatus?: number;
  readonly errorId?: string;

  constructor(
    code: KlarnaErrorCode,
    message: string,
    extra: { field?: string; httpStatus?: number; errorId?: string; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause });
    this.code = code;
    if (extra.field !== undefined) this.field = extra.field;
    if (extra.httpStatus !== undefined) this.httpStatus = extra.httpStatus;
    if (extra.errorId !== undefined) this.errorId = extra.errorId;
  }
}
