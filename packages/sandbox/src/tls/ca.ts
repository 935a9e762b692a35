/**
 * The sandbox's own certificate authority for `--tls`: an EC P-256 root made at start, a server
 * certificate for the loopback names, and client certificates on request (Klarna asks APs for an EC
 * prime256v1 key whose certificate CN is the last segment of their account id). Certificates are built
 * with node:crypto and core's DER encoders (Node parses X.509 but does not build it); they carry the
 * extensions TLS stacks check: basicConstraints, keyUsage, extKeyUsage, subjectAltName.
 * @module
 */
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { isIPv4 } from "node:net";
import { der, explicit, integer, oid, sequence, set, time, utf8String } from "@klarna-interop/core/asn1";

/** A certificate and its private key, both PEM. */
export interface IssuedCertificate {
  certPem: string;
  keyPem: string;
}

/** The sandbox CA: trust `caPem`; `issue` signs leaf certificates with it. */
export interface SandboxCa {
  caPem: string;
  /** A server certificate for these DNS names / IP addresses. */
  issueServerCertificate(altNames: string[]): IssuedCertificate;
  /** A client certificate (EC P-256) with this subject CN. */
  issueClientCertificate(commonName: string): IssuedCertificate;
}

const ECDSA_SHA256 = sequence(oid("1.2.840.10045.4.3.2"));
const DAY_MS = 24 * 3600_000;

const name = (commonName: string) => sequence(set(sequence(oid("2.5.4.3"), utf8String(commonName))));
const octetString = (bytes: Uint8Array) => der(0x04, bytes);
const TRUE = der(0x01, Buffer.from([0xff]));

function extension(id: string, value: Buffer, critical = false): Buffer {
  return critical ? sequence(oid(id), TRUE, octetString(value)) : sequence(oid(id), octetString(value));
}

/** KeyUsage BIT STRING from bit positions (0 = digitalSignature, 5 = keyCertSign, 6 = cRLSign). */
function keyUsage(bits: number[]): Buffer {
  let byte = 0;
  for (const bit of bits) byte |= 0x80 >> bit;
  const unused = 7 - Math.max(...bits);
  return der(0x03, Buffer.from([unused, byte]));
}

function ipBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from(address.split(".").map(Number));
  // IPv6: expand "::" and write eight 16-bit groups.
  const [head = "", tail = ""] = address.split("::");
  const h = head ? head.split(":") : [];
  const t = tail ? tail.split(":") : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return Buffer.from(
    groups.flatMap((g) => [(Number.parseInt(g, 16) >> 8) & 0xff, Number.parseInt(g, 16) & 0xff]),
  );
}

function subjectAltName(altNames: string[]): Buffer {
  const entries = altNames.map((n) =>
    /^[\d.]+$/.test(n) || n.includes(":") ? der(0x87, ipBytes(n)) : der(0x82, Buffer.from(n, "ascii")),
  );
  return sequence(...entries);
}

function certificate(input: {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signingKey: KeyObject;
  validDays: number;
  extensions: Buffer[];
}): Buffer {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const now = Date.now();
  const tbs = sequence(
    explicit(0, integer(2)),
    integer(serial),
    ECDSA_SHA256,
    name(input.issuer),
    sequence(time(new Date(now - 3600_000)), time(new Date(now + input.validDays * DAY_MS))),
    name(input.subject),
    input.publicKey.export({ type: "spki", format: "der" }),
    explicit(3, sequence(...input.extensions)),
  );
  return sequence(
    tbs,
    ECDSA_SHA256,
    der(0x03, Buffer.concat([Buffer.from([0]), sign("sha256", tbs, input.signingKey)])),
  );
}

function pem(derBytes: Buffer): string {
  const lines = derBytes.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}

/** Creates a fresh CA (valid 10 years) whose private key never leaves this process. */
export function createSandboxCa(commonName = "klarna-interop sandbox CA"): SandboxCa {
  const ca = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const caDer = certificate({
    subject: commonName,
    issuer: commonName,
    publicKey: ca.publicKey,
    signingKey: ca.privateKey,
    validDays: 3650,
    extensions: [
      extension("2.5.29.19", sequence(TRUE), true),
      extension("2.5.29.15", keyUsage([5, 6]), true),
    ],
  });
  const leaf = (subject: string, purpose: "1" | "2", altNames?: string[]): IssuedCertificate => {
    const key = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const extensions = [
      extension("2.5.29.19", sequence(), true),
      extension("2.5.29.15", keyUsage([0]), true),
      extension("2.5.29.37", sequence(oid(`1.3.6.1.5.5.7.3.${purpose}`))),
    ];
    if (altNames) extensions.push(extension("2.5.29.17", subjectAltName(altNames)));
    const certDer = certificate({
      subject,
      issuer: commonName,
      publicKey: key.publicKey,
      signingKey: ca.privateKey,
      validDays: 365,
      extensions,
    });
    return {
      certPem: pem(certDer),
      keyPem: key.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    };
  };
  return {
    caPem: pem(caDer),
    issueServerCertificate: (altNames) => leaf(altNames[0] ?? "localhost", "1", altNames),
    issueClientCertificate: (cn) => leaf(cn, "2"),
  };
}
