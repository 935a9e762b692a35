/**
 * Node's `parseArgs` errors in a CLI's words: "unknown option --x", "--x needs a value", instead of
 * its advice about positionals and `--`.
 */
export function parseErrorMessage(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  const option = /'(-{1,2}[^'\s]+)/.exec(message ?? "")?.[1];
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `unknown option ${option ?? message}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return option ? `${option.replace(/ .*/, "")} needs a value` : String(message);
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return `unexpected argument: ${/'([^']+)'/.exec(message ?? "")?.[1] ?? message}`;
    default:
      return String(message ?? error);
  }
}
