/**
 * The whole stack for the Vendure end-to-end test: the sandbox (as Klarna), the reference gateway
 * (as the Acquiring Partner, Klarna's current `network` flow, subscribed to the sandbox's webhooks)
 * and Vendure with the plugin, all in this process on 127.0.0.1; plus the sandbox journal and a
 * shopper's checkout through Vendure's Shop API.
 */
import "@klarna-interop/openapi-check/enforce";
import assert from "node:assert/strict";
import {
  createMerchant,
  openStore,
  type RunningGateway,
  type Store,
  startGateway,
} from "@klarna-interop/gateway";
import { type RunningSandbox, startSandbox } from "@klarna-interop/sandbox";
import { klarnaApi } from "../../../../tools/testing/src/sandbox.ts";
import { gql, type RunningVendure, startVendure } from "./vendure.ts";

// biome-ignore lint/suspicious/noExplicitAny: GraphQL and JSON answers, narrowed by the assertions
export type Json = any;

export interface JournalEntry {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface Stack {
  sandbox: RunningSandbox;
  gateway: RunningGateway;
  store: Store;
  apiKey: string;
  vendure: RunningVendure;
  /** Klarna-bound calls the sandbox received (control calls left out). */
  journal(): Promise<JournalEntry[]>;
  clearJournal(): Promise<void>;
  /** Calls the gateway with the merchant's key. */
  gatewayGet(path: string): Promise<Json>;
  mint(input: Record<string, unknown>): Promise<{ interoperability_token: string }>;
  close(): Promise<void>;
}

export async function startStack(
  vendurePlugins: unknown[] = [],
  gatewayOptions: Partial<Parameters<typeof startGateway>[0]> = {},
): Promise<Stack> {
  const sandbox = await startSandbox({ port: 0, host: "127.0.0.1" });
  const signing = await klarnaApi(sandbox, "POST", "/v1/notification/signing-keys", {});
  const store = await openStore(":memory:");
  const { apiKey } = await createMerchant(store, { name: "Vendure shop" });
  const gateway = await startGateway({
    port: 0,
    host: "127.0.0.1",
    klarnaUrl: sandbox.url,
    klarnaApiKey: sandbox.apiKey,
    klarnaApi: "network",
    klarnaWebhookSigningKey: { id: signing.signing_key_id, key: signing.signing_key },
    database: store,
    klarnaTimeoutMs: 2000,
    klarnaRetryBaseMs: 10,
    logger: false,
    webhookTargets: "loopback",
    ...gatewayOptions,
  });
  await klarnaApi(sandbox, "POST", "/v1/notification/webhooks", {
    url: `${gateway.url}/webhooks/klarna`,
    event_types: ["payment.request.state-change.*", "payment.transaction.*"],
    signing_key_id: signing.signing_key_id,
  });
  const vendure = await startVendure(vendurePlugins);
  return {
    sandbox,
    gateway,
    store,
    apiKey,
    vendure,
    async journal() {
      const { entries } = await klarnaApi(sandbox, "GET", "/_sandbox/journal");
      return (entries as JournalEntry[]).filter((e) => !e.path.startsWith("/_sandbox/"));
    },
    clearJournal: () => klarnaApi(sandbox, "DELETE", "/_sandbox/journal"),
    async gatewayGet(path) {
      const res = await fetch(gateway.url + path, { headers: { authorization: `Bearer ${apiKey}` } });
      assert.equal(res.status, 200, path);
      return res.json();
    },
    mint: (input) => klarnaApi(sandbox, "POST", "/_sandbox/interoperability-tokens", input),
    async close() {
      await vendure.close();
      await gateway.close();
      await store.close();
      await sandbox.close();
    },
  };
}

const ORDER = `code state totalWithTax currencyCode
  customFields { klarna_interoperability_token klarna_interoperability_data }
  payments { id state method amount transactionId errorMessage metadata }`;

/** A shopper's checkout up to the payment step, in a new Shop API session; answers the order. */
export async function checkoutUntilPayment(
  vendure: RunningVendure,
  klarna: { token?: string; data?: string } = {},
): Promise<Json> {
  const { shop } = vendure;
  await shop.asAnonymousUser();
  const added = await shop.query(
    gql(`mutation { addItemToOrder(productVariantId: "T_1", quantity: 1) {
      ... on Order { code } ... on ErrorResult { message } } }`),
  );
  assert.ok(added.addItemToOrder.code, JSON.stringify(added));
  await shop.query(
    gql(`mutation { setCustomerForOrder(input: { emailAddress: "shopper@example.com", firstName: "Ada", lastName: "Shopper" }) {
      ... on Order { id } ... on ErrorResult { message } } }`),
  );
  await shop.query(
    gql(`mutation { setOrderShippingAddress(input: { streetLine1: "1 Main St", city: "Columbus", postalCode: "43004", countryCode: "US" }) {
      ... on Order { id } ... on ErrorResult { message } } }`),
  );
  const { eligibleShippingMethods } = await shop.query(gql("{ eligibleShippingMethods { id } }"));
  await shop.query(
    gql(`mutation ($id: [ID!]!) { setOrderShippingMethod(shippingMethodId: $id) {
      ... on Order { id } ... on ErrorResult { message } } }`),
    { id: [eligibleShippingMethods[0].id] },
  );
  if (klarna.token !== undefined || klarna.data !== undefined) {
    await storeAsKlarnaPlugin(vendure, klarna);
  }
  const moved = await shop.query(
    gql(`mutation { transitionOrderToState(state: "ArrangingPayment") {
      ... on Order { ${ORDER} } ... on ErrorResult { message } } }`),
  );
  assert.equal(moved.transitionOrderToState.state, "ArrangingPayment", JSON.stringify(moved));
  return moved.transitionOrderToState;
}

/** What Klarna's plugin does when the storefront receives a token: Vendure's standard shop mutation. */
export async function storeAsKlarnaPlugin(
  vendure: RunningVendure,
  klarna: { token?: string; data?: string },
): Promise<Json> {
  const customFields: Record<string, string> = {};
  if (klarna.token !== undefined) customFields.klarna_interoperability_token = klarna.token;
  if (klarna.data !== undefined) customFields.klarna_interoperability_data = klarna.data;
  const set = await vendure.shop.query(
    gql(`mutation ($input: UpdateOrderInput!) { setOrderCustomFields(input: $input) {
      ... on Order { ${ORDER} } ... on ErrorResult { message } } }`),
    { input: { customFields } },
  );
  assert.ok(set.setOrderCustomFields.code, JSON.stringify(set));
  return set.setOrderCustomFields;
}

/** `addPaymentToOrder` with the Klarna method; answers the order or the error result. */
export async function payWithKlarna(
  vendure: RunningVendure,
  metadata: Record<string, unknown> = {},
  method = "klarna",
): Promise<Json> {
  const { addPaymentToOrder } = await vendure.shop.query(
    gql(`mutation ($input: PaymentInput!) { addPaymentToOrder(input: $input) {
      ... on Order { ${ORDER} }
      ... on ErrorResult { errorCode message }
      ... on PaymentFailedError { paymentErrorMessage }
      ... on PaymentDeclinedError { paymentErrorMessage }
      ... on IneligiblePaymentMethodError { eligibilityCheckerMessage } } }`),
    { input: { method, metadata } },
  );
  return addPaymentToOrder;
}

export const ORDER_FIELDS = ORDER;

/**
 * The admin creates the "klarna" payment method with the plugin's handler and checker (Admin API);
 * `code` and `gatewayUrl` give another one (e.g. through a fault proxy).
 */
export async function createKlarnaPaymentMethod(
  s: Stack,
  code = "klarna",
  gatewayUrl = s.gateway.url,
): Promise<Json> {
  const created = await s.vendure.admin.query(
    gql(`mutation ($input: CreatePaymentMethodInput!) { createPaymentMethod(input: $input) { id code } }`),
    {
      input: {
        code,
        enabled: true,
        handler: {
          code: "klarna-interop",
          arguments: [
            { name: "gatewayUrl", value: gatewayUrl },
            { name: "apiKey", value: s.apiKey },
            { name: "useSessionToken", value: "true" },
            { name: "returnUrl", value: "https://shop.example/checkout/return?order={code}" },
            { name: "locale", value: "en-US" },
          ],
        },
        checker: { code: "klarna-interop-eligibility", arguments: [] },
        translations: [{ languageCode: "en", name: "Klarna", description: "Pay with Klarna" }],
      },
    },
  );
  assert.equal(created.createPaymentMethod.code, code);
  return created.createPaymentMethod;
}
