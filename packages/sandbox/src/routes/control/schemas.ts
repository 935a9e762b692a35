import { Type } from "typebox";

/** Klarna's error body, for OpenAPI responses. */
export const KlarnaErrorSchema = Type.Object({
  error_id: Type.String(),
  error_type: Type.String(),
  error_code: Type.String(),
  error_message: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ parameter: Type.String(), error_message: Type.String() }))),
});

export const CONTROL_TAG = "Sandbox control";
