/**
 * Core benchmark: the token verifier and decoder against the floor and against peer libraries.
 *
 *   npx node bench/core.ts [--round-ms 100] [--rounds 11] [--no-write]
 *
 * All cases run in one process, interleaved over several rounds (so drift in machine load hits
 * every case alike), on 64 distinct tokens cycled round robin:
 * - floor: what any verifier must at least do: split, base64url-decode and JSON.parse both
 *   segments, and `crypto.verify` the signing input with a pre-imported KeyObject. In the
 *   16-in-flight mode the floor is the better of the synchronous and the thread-pool form.
 * - ours: `createTokenVerifier(...).verify` (full checks: allow-list, kid/x5t, exp/iat) and
 *   `decodeToken` + `actionFor`.
 * - peers: jose `jwtVerify` (local JWKS, and a pre-imported key) / `decodeJwt`, fast-jwt (its
 *   verified-token cache off, as by default), jsonwebtoken.
 * Writes the `core` section of docs/benchmarks.md unless --no-write.
 */
import { createPublicKey, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { parseArgs } from "node:util";
import { createDecoder, createVerifier } from "fast-jwt";
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, importJWK, type JWK, jwtVerify } from "jose";
import jsonwebtoken from "jsonwebtoken";
import { actionFor } from "../packages/core/src/actions.ts";
import { decodeToken } from "../packages/core/src/decode.ts";
import { type DevKey, generateDevKey } from "../packages/core/src/dev-keys.ts";
import { ecdsaRawToDer } from "../packages/core/src/key-algorithms.ts";
import { mintInteroperabilityToken } from "../packages/core/src/mint.ts";
import { createTokenVerifier } from "../packages/core/src/verify.ts";
import { measureConcurrent, measureSerial, merge, type Sample, stats } from "./lib/measure.ts";
import { fmt, machineLine, table, writeSection } from "./lib/report.ts";

const { values: args } = parseArgs({
  options: {
    "round-ms": { type: "string", default: "100" },
    rounds: { type: "string", default: "11" },
    "no-write": { type: "boolean", default: false },
  },
});
const ROUND_MS = Number(args["round-ms"]);
const ROUNDS = Number(args.rounds);
const IN_FLIGHT = 16;
const TOKENS = 64;

type Fn = () => unknown;
interface Case {
  group: string;
  name: string;
  /** "floor" cases are the reference; "ours" are checked against the goals. */
  role: "floor" | "ours" | "peer";
  mode: "serial" | "in-flight";
  fn: Fn;
  samples: Sample[];
}

/** Cycles through a list; one closure per case so cases do not share a cursor. */
function cycler<T>(items: T[]): () => T {
  let i = 0;
  return () => items[i++ % items.length]!;
}

async function verifyCases(alg: "RS256" | "ES256", key: DevKey): Promise<Case[]> {
  const nowSec = Math.floor(Date.now() / 1000);
  const tokens = await Promise.all(
    Array.from({ length: TOKENS }, (_, i) =>
      mintInteroperabilityToken(
        {
          status: "PAYMENT_PENDING_CONFIRMATION",
          shoppingSessionId: `krn:shopping:eu1:session:${crypto.randomUUID()}`,
          paymentConfirmationToken: `krn:payment:eu1:confirmation-token:${i}-${crypto.randomUUID()}`,
          iat: nowSec,
        },
        { privateKey: key.privateKey, kid: key.kid, x5t: key.x5t, alg },
      ),
    ),
  );
  const jwks = { keys: [key.publicJwk] };
  const publicKey: KeyObject = createPublicKey(key.privateKey);
  const pem = publicKey.export({ type: "spki", format: "pem" }) as string;
  const p1363 = { key: publicKey, dsaEncoding: "ieee-p1363" as const };

  function floorParts(t: string) {
    const d1 = t.indexOf(".");
    const d2 = t.lastIndexOf(".");
    JSON.parse(Buffer.from(t.slice(0, d1), "base64url").toString());
    const claims = JSON.parse(Buffer.from(t.slice(d1 + 1, d2), "base64url").toString());
    const raw = Buffer.from(t.slice(d2 + 1), "base64url");
    // ECDSA: OpenSSL's native DER is the fastest input (see ecdsaRawToDer); RSA needs no conversion.
    return {
      input: Buffer.from(t.slice(0, d2), "latin1"),
      sig: alg === "ES256" ? ecdsaRawToDer(raw) : raw,
      claims,
    };
  }
  const floorSync = (t: string) => {
    const { input, sig, claims } = floorParts(t);
    return cryptoVerify("sha256", input, publicKey, sig) ? claims : undefined;
  };
  /** The same with node:crypto converting raw r||s itself (the documented way), for comparison. */
  const floorP1363 = (t: string) => {
    const d1 = t.indexOf(".");
    const d2 = t.lastIndexOf(".");
    JSON.parse(Buffer.from(t.slice(0, d1), "base64url").toString());
    const claims = JSON.parse(Buffer.from(t.slice(d1 + 1, d2), "base64url").toString());
    const sig = Buffer.from(t.slice(d2 + 1), "base64url");
    return cryptoVerify("sha256", Buffer.from(t.slice(0, d2), "latin1"), p1363, sig) ? claims : undefined;
  };
  const floorAsync = (t: string) =>
    new Promise((resolve, reject) => {
      const { input, sig, claims } = floorParts(t);
      cryptoVerify("sha256", input, publicKey, sig, (err, ok) =>
        err ? reject(err) : resolve(ok ? claims : undefined),
      );
    });
  const ours = createTokenVerifier({ jwks });
  const joseJwks = createLocalJWKSet(jwks as { keys: JWK[] });
  const joseKey = await importJWK(key.publicJwk as JWK, alg);
  const fast = createVerifier({ key: pem, algorithms: [alg] });
  const jwtOpts = { algorithms: [alg] as jsonwebtoken.Algorithm[] };

  // Every contender must accept every token, or we would be timing a failure path.
  for (const t of tokens) {
    const r = await ours.verify(t);
    if (!r.verified) throw new Error(`ours refused a good ${alg} token: ${r.reason} ${r.detail ?? ""}`);
    if (!floorSync(t) || !floorP1363(t) || !(await floorAsync(t)))
      throw new Error("floor refused a good token");
    await jwtVerify(t, joseJwks);
    await jwtVerify(t, joseKey);
    fast(t);
    jsonwebtoken.verify(t, publicKey, jwtOpts);
  }

  const group = `verify ${alg}`;
  type Def = [string, Case["role"], (next: () => string) => Fn, Case["mode"][]];
  const p1363Def: Def = [
    "floor variant: node:crypto sync, dsaEncoding ieee-p1363",
    "floor",
    (n) => () => floorP1363(n()),
    ["serial"],
  ];
  const defs: Def[] = [
    ["floor: node:crypto sync", "floor", (n) => () => floorSync(n()), ["serial", "in-flight"]],
    ["floor: node:crypto thread pool", "floor", (n) => () => floorAsync(n()), ["in-flight"]],
    ...(alg === "ES256" ? [p1363Def] : []),
    ["ours: createTokenVerifier().verify", "ours", (n) => () => ours.verify(n()), ["serial", "in-flight"]],
    ["jose jwtVerify (local JWKS)", "peer", (n) => () => jwtVerify(n(), joseJwks), ["serial", "in-flight"]],
    ["jose jwtVerify (imported key)", "peer", (n) => () => jwtVerify(n(), joseKey), ["serial", "in-flight"]],
    ["fast-jwt createVerifier", "peer", (n) => () => fast(n()), ["serial", "in-flight"]],
    [
      "jsonwebtoken verify",
      "peer",
      (n) => () => jsonwebtoken.verify(n(), publicKey, jwtOpts),
      ["serial", "in-flight"],
    ],
  ];
  return defs.flatMap(([name, role, make, modes]) =>
    modes.map((mode) => ({ group, name, role, mode, fn: make(cycler(tokens)), samples: [] })),
  );
}

async function decodeCases(key: DevKey): Promise<Case[]> {
  const tokens = await Promise.all(
    Array.from({ length: TOKENS }, () =>
      mintInteroperabilityToken(
        { status: "PAYMENT_PREPARED", shoppingSessionId: `krn:shopping:eu1:session:${crypto.randomUUID()}` },
        { privateKey: key.privateKey, kid: key.kid, x5t: key.x5t },
      ),
    ),
  );
  const fastDecode = createDecoder({ complete: true });
  const defs: [string, Case["role"], (t: string) => unknown][] = [
    [
      "floor: split + base64url + JSON.parse",
      "floor",
      (t) => {
        const [h, p] = t.split(".");
        JSON.parse(Buffer.from(h!, "base64url").toString());
        return JSON.parse(Buffer.from(p!, "base64url").toString());
      },
    ],
    [
      "ours: decodeToken + actionFor",
      "ours",
      (t) => {
        const d = decodeToken(t);
        return d.form === "jwt" ? actionFor(d.claims.status) : "show";
      },
    ],
    ["jose decodeProtectedHeader + decodeJwt", "peer", (t) => [decodeProtectedHeader(t), decodeJwt(t)]],
    ["fast-jwt createDecoder({complete})", "peer", (t) => fastDecode(t)],
    ["jsonwebtoken decode({complete})", "peer", (t) => jsonwebtoken.decode(t, { complete: true })],
  ];
  for (const t of tokens)
    if (decodeToken(t).form !== "jwt") throw new Error("decodeToken refused a good token");
  return defs.map(([name, role, f]) => {
    const next = cycler(tokens);
    return { group: "decode", name, role, mode: "serial" as const, fn: () => f(next()), samples: [] };
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function run(c: Case, ms: number): Promise<Sample> {
  if (c.mode === "in-flight") return measureConcurrent(async () => c.fn(), IN_FLIGHT, ms);
  // One at a time: await only what returns a promise, so synchronous peers pay no promise cost.
  const probe = c.fn();
  if (!(probe instanceof Promise)) return measureSerial(c.fn, ms);
  await probe;
  return measureConcurrent(async () => c.fn(), 1, ms);
}

async function main(): Promise<void> {
  const started = Date.now();
  const rsKey = generateDevKey({ alg: "RS256", kid: "bench-rs" });
  const esKey = generateDevKey({ alg: "ES256", kid: "bench-es" });
  const cases = [
    ...(await verifyCases("RS256", rsKey)),
    ...(await verifyCases("ES256", esKey)),
    ...(await decodeCases(rsKey)),
  ];
  process.stdout.write(`${machineLine()}\n${cases.length} cases × ${ROUNDS} rounds × ${ROUND_MS} ms\n`);
  for (const c of cases) await run(c, Math.min(200, ROUND_MS)); // warm-up: JIT, key caches
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of cases) c.samples.push(await run(c, ROUND_MS));
    process.stdout.write(`round ${r + 1}/${ROUNDS} done\n`);
  }

  const sections: string[] = [];
  const verdicts: string[] = [];
  const groups = [...new Set(cases.map((c) => `${c.group}|${c.mode}`))];
  for (const g of groups) {
    const [group, mode] = g.split("|") as [string, Case["mode"]];
    const members = cases.filter((c) => c.group === group && c.mode === mode);
    const floors = members.filter((c) => c.role === "floor");
    // The machine is shared, so load drifts: compare each case with the floor of the *same round*
    // and take the median of those ratios, rather than comparing totals taken minutes apart.
    const roundFloor = (r: number) => Math.max(...floors.map((f) => stats(f.samples[r]!).opsPerSec));
    const rows = members.map((c) => ({
      c,
      s: stats(merge(c.samples)),
      ratio: median(c.samples.map((sample, r) => stats(sample).opsPerSec / roundFloor(r))),
    }));
    const title = `${group}, ${mode === "serial" ? "one at a time" : `${IN_FLIGHT} in flight`}`;
    sections.push(
      `### ${title}\n\n${table(
        ["case", "ops/s", "p50 µs", "p99 µs", "× floor"],
        rows
          .sort((a, b) => b.ratio - a.ratio)
          .map(({ c, s, ratio }) => [
            c.role === "ours" ? `**${c.name}**` : c.name,
            fmt(s.opsPerSec),
            fmt(s.p50Us, 1),
            fmt(s.p99Us, 1),
            fmt(ratio, 2),
          ]),
        [false, true, true, true, true],
      )}`,
    );
    const ours = rows.find((r) => r.c.role === "ours")!;
    const bestPeer = rows.filter((r) => r.c.role === "peer").sort((a, b) => b.ratio - a.ratio)[0]!;
    const goal = group === "decode" ? 0.8 : 0.87;
    const ratio = ours.ratio;
    verdicts.push(
      `- ${title}: ours ${fmt(ratio, 2)}× floor (goal ≥ ${goal}: ${ratio >= goal ? "met" : "NOT met"}); ` +
        `best peer ${bestPeer.c.name} ${fmt(bestPeer.ratio, 2)}× (${ratio > bestPeer.ratio ? "ours ahead" : "PEER AHEAD"})`,
    );
  }
  const markdown = [
    "## Core: token verify and decode (`bench/core.ts`)",
    "",
    `Machine: ${machineLine()}. ${ROUNDS} interleaved rounds of ${ROUND_MS} ms per case, ${TOKENS} distinct tokens,`,
    "RSA-2048 / P-256 keys. ops/s over all rounds; × floor = median over rounds of ops/s relative to the best",
    "floor case of the same table in the same round (robust to load drift on a shared machine).",
    "",
    ...verdicts,
    "",
    "How the verifier gets there: header segments are parsed once and cached with their key; keys are",
    "imported once (jose `importJWK` → `KeyObject`); signatures go straight to node:crypto. ECDSA",
    'signatures are converted raw r||s → DER by us, because node:crypto\'s `dsaEncoding: "ieee-p1363"`',
    "path measured about half as fast (see the floor variant row). Checks move to the thread pool only",
    "when verifications overlap, so a lone caller keeps the synchronous latency while a burst gets the",
    "second core (RS256 with 16 in flight: sync 0.82-0.90x of the pool floor, offloaded ~1.0x).",
    "The decoder likewise keeps decoded header segments (a signer's tokens share one; the 64 tokens",
    "here do), so a repeated header costs a comparison and a copy; the signature segment is left to",
    "the verifier. A stream of tokens whose headers all differ would not benefit from the cache.",
    "",
    ...sections.flatMap((s) => [s, ""]),
  ].join("\n");
  process.stdout.write(`\n${markdown}\n`);
  if (!args["no-write"]) writeSection("core", markdown);
  process.stdout.write(`\nbench/core.ts: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

await main();
