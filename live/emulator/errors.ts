/** An API error as vLLM's OpenAI server returns it: HTTP status plus the JSON body
 *  `{"error": {"message", "type", "param", "code"}}`, where `code` is the HTTP status (an integer,
 *  as in vLLM's ErrorInfo) and `type` names the status (`BadRequestError`, `NotFoundError`, …). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get type(): string {
    return ERROR_TYPES[this.status] ?? "InternalServerError";
  }

  /** vLLM 0.10 and later nest the fields under `error`; older releases wrote them flat, with
   *  `"object": "error"` (`nested` false). */
  body(nested = true): Record<string, unknown> {
    const info = { message: this.message, type: this.type, param: this.param, code: this.status };
    return nested ? { error: info } : { object: "error", ...info };
  }
}

const ERROR_TYPES: Record<number, string> = {
  400: "BadRequestError",
  404: "NotFoundError",
  405: "MethodNotAllowedError",
  413: "RequestEntityTooLargeError",
  429: "TooManyRequestsError",
  500: "InternalServerError",
  503: "ServiceUnavailableError",
};

export const badRequest = (message: string, param: string | null = null) => new ApiError(400, message, param);
