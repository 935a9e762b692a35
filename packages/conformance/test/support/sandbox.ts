/** Starts the real sandbox for a test, or explains why it cannot be used yet. */
import "@klarna-interop/openapi-check/enforce";
import { startSandbox } from "@klarna-interop/sandbox";

export type RunningSandbox = Awaited<ReturnType<typeof startSandbox>>;

/**
 * A sandbox on 127.0.0.1 port 0 whose token minting works, or a reason to skip: while the sandbox is
 * being built, its control API may not offer minting yet.
 */
export async function sandboxForTest(): Promise<{ sandbox: RunningSandbox } | { skip: string }> {
  const sandbox = await startSandbox({ port: 0, host: "127.0.0.1", logger: false });
  const probe = await fetch(`${sandbox.url}/_sandbox/interoperability-tokens`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ scenario: "standard", currency: "USD", amount: 100 }),
  });
  await probe.arrayBuffer();
  if (probe.status >= 300) {
    await sandbox.close();
    return {
      skip: `the sandbox cannot mint tokens yet (POST /_sandbox/interoperability-tokens → ${probe.status})`,
    };
  }
  return { sandbox };
}
