/**
 * `klarna-interop conformance`: runs the conformance suite against an AP's API, described by a
 * profile, using a running sandbox as Klarna; prints one line per check, JSON or JUnit XML.
 * @module
 */
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import {
  type ConformanceReport,
  findChromium,
  formatJunit,
  formatResult,
  formatSummary,
  parseProfile,
  referenceProfile,
  runConformance,
} from "@klarna-interop/conformance";

export const description =
  "Check an Acquiring Partner's payment API against the Klarna interoperability rules";

const REPORTERS = ["pretty", "json", "junit"] as const;

const usage = `Usage: klarna-interop conformance --gateway URL --api-key KEY [options]
       klarna-interop conformance --print-profile

Sends payments to the AP's API and reads, from the sandbox's journal, what Klarna received.
The AP must be configured to use the same sandbox as its Klarna (see docs/conformance.md).

Options:
  --gateway URL        base URL of the AP's API under test (required)
  --api-key KEY        fills {{api_key}} in the profile's auth headers (or CONFORMANCE_API_KEY)
  --profile FILE       the AP's API described in JSON (default: the reference gateway's)
  --print-profile      print the reference gateway's profile, a starting point for your own
  --sandbox URL        the sandbox the AP uses as Klarna (default http://127.0.0.1:4010)
  --payment-path PATH  override the profile's payment path
  --also-path PATH     replace the profile's extra_payments by the payment request at PATH (repeatable)
  --only LIST          comma-separated rule ids or check ids to run, e.g. D3,D7 or token-names
  --skip LIST          comma-separated rule ids or check ids to leave out
  --reporter NAME      pretty (default), json or junit (JUnit XML for CI)
  --json               same as --reporter json
  --browser            also run the browser checks of the hosted checkout page (Chromium)
  --chromium PATH      the Chromium to use, implies --browser (default CHROMIUM_PATH, then
                       /usr/bin/chromium)
  --webhook-signing-key KEY  the AP's Klarna webhook signing key (or CONFORMANCE_WEBHOOK_SIGNING_KEY):
                       adds the altered-genuine-event case to webhook-forgery-ignored
  -h, --help           show this help

Exit status: 0 when every required check passed, 1 when one failed or could not be judged, 2 when
the run could not happen (bad options or profile, sandbox or AP unreachable, API key refused).`;

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
  if (values["print-profile"]) {
    console.log(JSON.stringify(referenceProfile(), null, 2));
    return 0;
  }
  const reporter = values.json ? "json" : (values.reporter ?? "pretty");
  if (!(REPORTERS as readonly string[]).includes(reporter)) {
    console.error(`--reporter: expected one of ${REPORTERS.join(", ")}, got ${reporter}`);
    return 2;
  }
  const apiKey = values["api-key"] ?? process.env.CONFORMANCE_API_KEY;
  const missing = [!values.gateway && "--gateway", !apiKey && "--api-key"].filter(Boolean);
  if (missing.length > 0) {
    console.error(`missing ${missing.join(" and ")}\n\n${usage}`);
    return 2;
  }
  const list = (value?: string) => value?.split(",");
  try {
    const profile = values.profile ? parseProfile(await readProfile(values.profile)) : undefined;
    const report = await runConformance({
      gatewayUrl: values.gateway!,
      apiKey: apiKey!,
      sandboxUrl: values.sandbox,
      profile,
      paymentPath: values["payment-path"],
      extraPaymentPaths: values["also-path"],
      only: list(values.only),
      skip: list(values.skip),
      browser: values.browser || values.chromium ? findChromium(values.chromium) : undefined,
      webhookSigningKey: values["webhook-signing-key"] ?? process.env.CONFORMANCE_WEBHOOK_SIGNING_KEY,
      // The pretty reporter streams lines as checks finish; a run takes several seconds.
      onResult: reporter === "pretty" ? (result) => console.log(formatResult(result)) : undefined,
    });
    console.log(render(report, reporter));
    return report.summary.ok ? 0 : 1;
  } catch (error) {
    console.error(`conformance: ${(error as Error).message}`);
    return 2;
  }
}

function render(report: ConformanceReport, reporter: string): string {
  if (reporter === "json") return JSON.stringify(report, null, 2);
  if (reporter === "junit") return formatJunit(report).trimEnd();
  return formatSummary(report);
}

async function readProfile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new Error(
      `cannot read the profile ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    options: {
      gateway: { type: "string" },
      "api-key": { type: "string" },
      profile: { type: "string" },
      "print-profile": { type: "boolean" },
      sandbox: { type: "string", default: "http://127.0.0.1:4010" },
      "payment-path": { type: "string" },
      "also-path": { type: "string", multiple: true },
      only: { type: "string" },
      skip: { type: "string" },
      reporter: { type: "string" },
      json: { type: "boolean" },
      browser: { type: "boolean" },
      chromium: { type: "string" },
      "webhook-signing-key": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
}
