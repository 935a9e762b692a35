/**
 * Migrating while other sessions drop their schemas: kysely's table listing names each schema it
 * found, and a schema dropped in between made it fail with 3F000 (seen as a rare failure of the
 * suite, whose files each drop their own schema when they end). The store's introspector lists again.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import pg from "pg";
import { dropPostgresSchema, openStore } from "../src/index.ts";
import { retrySchemaRace } from "../src/store/introspector.ts";
import { DATABASE_URL } from "./helpers/engines.ts";

describe("listings that meet a concurrently dropped schema", () => {
  it("are made again while the schema's disappearance is the failure, up to five attempts", async () => {
    const vanished = Object.assign(new Error('schema "x" does not exist'), { code: "3F000" });
    let calls = 0;
    assert.equal(
      await retrySchemaRace(async () => {
        if (++calls < 3) throw vanished;
        return "listed";
      }),
      "listed",
    );
    assert.equal(calls, 3);
    /** How many times a listing that always fails with `error` is made before the error surfaces. */
    const attemptsBeforeThrowing = async (error: Error) => {
      let attempts = 0;
      await assert.rejects(
        retrySchemaRace(async () => {
          attempts++;
          throw error;
        }),
        error,
      );
      return attempts;
    };
    assert.equal(await attemptsBeforeThrowing(vanished), 5, "gives up after five attempts");
    const other = Object.assign(new Error("permission denied"), { code: "42501" });
    assert.equal(await attemptsBeforeThrowing(other), 1, "any other error at once");
  });

  it("PostgreSQL: stores migrate while another session creates and drops schemas without pause", {
    skip: DATABASE_URL ? false : "DATABASE_URL not set",
  }, async () => {
    const churn = new pg.Client({ connectionString: DATABASE_URL });
    await churn.connect();
    let stop = false;
    const prefix = `race_${randomBytes(4).toString("hex")}`;
    const churning = (async () => {
      for (let i = 0; !stop; i++) {
        // Two commits: a schema other sessions see, then its drop.
        await churn.query(`create schema "${prefix}_${i}"; create table "${prefix}_${i}".t (a int)`);
        await churn.query(`drop schema "${prefix}_${i}" cascade`);
      }
    })();
    try {
      // Without the retry about half of such runs failed with 12 stores; 20 make a miss rarer still.
      for (let i = 0; i < 20; i++) {
        const schema = `${prefix}_store_${i}`;
        try {
          await (await openStore(DATABASE_URL!, { schema })).close();
        } finally {
          await dropPostgresSchema(DATABASE_URL!, schema);
        }
      }
    } finally {
      stop = true;
      await churning;
      await churn.end();
    }
  });
});
