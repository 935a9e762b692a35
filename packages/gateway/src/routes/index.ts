/**
 * Every route module of the gateway, in registration order. To add routes, write a module that
 * exports `async function xRoutes(app: FastifyInstance)` and add it here (see README "Adding routes").
 */
import type { FastifyInstance } from "fastify";
import { webhookWorkerPlugin } from "../outbox/plugin.ts";
import { reconcilerPlugin } from "../reconcile/plugin.ts";
import { checkoutRoutes } from "./checkout.ts";
import { customerRoutes } from "./customers.ts";
import { dashboardRoutes } from "./dashboard.ts";
import { healthRoutes } from "./health.ts";
import { indexRoutes } from "./index-page.ts";
import { klarnaRoutes } from "./klarna.ts";
import { merchantRoutes } from "./merchant.ts";
import { paymentRoutes } from "./payments.ts";
import { toolRoutes } from "./tools.ts";
import { webhookEndpointRoutes } from "./webhook-endpoints.ts";
import { klarnaWebhookRoutes } from "./webhooks-klarna.ts";

export type RouteModule = (app: FastifyInstance) => Promise<void>;

export const ROUTES: RouteModule[] = [
  indexRoutes,
  healthRoutes,
  merchantRoutes,
  paymentRoutes,
  klarnaWebhookRoutes,
  webhookEndpointRoutes,
  customerRoutes,
  checkoutRoutes,
  klarnaRoutes,
  dashboardRoutes,
  toolRoutes,
  webhookWorkerPlugin,
  reconcilerPlugin,
];
