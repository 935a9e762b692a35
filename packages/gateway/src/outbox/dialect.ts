/** The two database engines the gateway runs on; claims differ between them. */
export type SqlDialect = "sqlite" | "postgres";
