/**
 * `klarna-interop conformance`: runs the conformance suite against an AP's payment API, using a
 * running sandbox as Klarna, and prints one line per check (or the JSON report).
 * @module
 */
import { parseArgs } from "node:util";
import { formatResult, formatSummary, runConformance } from "@klarna-interop/conformance";

export const description =
  "Check an Acquiring Partner's payment API against the Klarna interoperability rules";

const usage = `Usage: klarna-interop conformance --gateway URL --api-key KEY [options]

Sends payments to the AP's API and reads, from the sandbox's journal, what Klarna received.
The AP must be configured to use the same sandbox as its Klarna (see docs/conformance.md).

Options:
  --gateway URL        base URL of the AP's API under test (required)
  --api-key KEY        sent as "Authorization: Bearer KEY" (required; or CONFORMANCE_API_KEY)
  --sandbox URL        the sandbox the AP uses as Klarna (default http://127.0.0.1:4010)
  --payment-path PATH  the AP's payment-creating route (default /v2/payments)
  --also-path PATH     another payment- or checkout-triggering route taking the same body
                       (repeatable, e.g. --also-path /v1/payments); checked by every-payment-route
  --only LIST          comma-separated rule ids or check ids, e.g. D3,D7 or token-names
  --json               print the JSON report instead of text
  -h, --help           show this help

Exit status: 0 when no check failed, 1 when one did, 2 when the run itself could not happen.`;

/** Parses the options, runs the suite and prints the report; resolves to the exit status. */
export async function run(argv: string[]): Promise<number> {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(argv).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const apiKey = values["api-key"] ?? process.env.CONFORMANCE_API_KEY;
  const missing = [!values.gateway && "--gateway", !apiKey && "--api-key"].filter(Boolean);
  if (missing.length > 0) {
    console.error(`missing ${missing.join(" and ")}\n\n${usage}`);
    return 2;
  }
  const json = values.json === true;
  try {
    const report = await runConformance({
      gatewayUrl: values.gateway!,
      apiKey: apiKey!,
      sandboxUrl: values.sandbox,
      paymentPath: values["payment-path"],
      extraPaymentPaths: values["also-path"],
      only: values.only?.split(","),
      // Text mode streams lines as checks finish; a run takes a few seconds.
      onResult: json ? undefined : (result) => console.log(formatResult(result)),
    });
    if (json) console.log(JSON.stringify(report, null, 2));
    else console.log(formatSummary(report));
    return report.summary.failed === 0 ? 0 : 1;
  } catch (error) {
    console.error(`conformance: ${(error as Error).message}`);
    return 2;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    options: {
      gateway: { type: "string" },
      "api-key": { type: "string" },
      sandbox: { type: "string", default: "http://127.0.0.1:4010" },
      "payment-path": { type: "string", default: "/v2/payments" },
      "also-path": { type: "string", multiple: true },
      only: { type: "string" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}
