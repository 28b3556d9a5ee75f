/**
 * The OpenAPI 3.1 document of the public JSON API (`GET /api/openapi.json`), generated from the
 * endpoint table (`endpoints.ts`: paths, summaries, query parameters, errors) and the response
 * schemas (`schemas.ts`), so the document cannot say something the routes do not do.
 *
 * @module
 */

import { endpointSummary, type ParameterSchema, SNAPSHOT_ENDPOINTS } from "./endpoints.ts";
import type { JsonValue, Schema } from "./schemas.ts";

/** Options of the generated OpenAPI document. */
export interface OpenApiOptions {
  /** `info.title`. */
  readonly title?: string;
  /** `info.version` (the software version). */
  readonly version?: string;
  /** `servers[0].url`, when known. */
  readonly serverUrl?: string;
}

/** The OpenAPI 3.1 document of the public JSON API, built from the endpoint table. */
export function openApiDocument(options: OpenApiOptions = {}): Record<string, JsonValue> {
  const components: Record<string, JsonValue> = {};
  const toJson = (schema: Schema): JsonValue => {
    const out: Record<string, JsonValue> = {};
    switch (schema.type) {
      case "object": {
        if (!(schema.title in components)) {
          components[schema.title] = {}; // reserve the name first: guards against cycles
          const properties: Record<string, JsonValue> = {};
          for (const [key, member] of Object.entries(schema.properties)) {
            properties[key] = toJson(member);
          }
          const body: Record<string, JsonValue> = {
            type: "object",
            properties,
            required: [...schema.required],
            additionalProperties: false,
          };
          if (schema.description) body.description = schema.description;
          components[schema.title] = body;
        }
        return { $ref: `#/components/schemas/${schema.title}` };
      }
      case "array":
        out.type = "array";
        out.items = toJson(schema.items);
        if (schema.maxItems !== undefined) out.maxItems = schema.maxItems;
        break;
      case "string":
        out.type = "string";
        if (schema.enum) out.enum = [...schema.enum];
        if (schema.format) out.format = schema.format;
        break;
      case "integer":
      case "number":
        out.type = schema.type;
        if (schema.minimum !== undefined) out.minimum = schema.minimum;
        break;
      case "boolean":
        out.type = "boolean";
        break;
    }
    if (schema.description) out.description = schema.description;
    return out;
  };

  const snapshotHeaders: Record<string, JsonValue> = {
    "Cache-Control": {
      description: "Always `no-cache, no-store, must-revalidate` (the cache is server-side).",
      schema: { type: "string" },
    },
    "X-JSON-Updated-At": {
      description: "When the cached payload was built (RFC3339).",
      schema: { type: "string", format: "date-time" },
    },
    "X-JSON-Next-Update-At": {
      description: "When the cached payload will be rebuilt (RFC3339).",
      schema: { type: "string", format: "date-time" },
    },
  };
  const plainError = (description: string): JsonValue => ({
    description,
    content: { "text/plain": { schema: { type: "string" } } },
  });
  const paths: Record<string, JsonValue> = {};
  for (const endpoint of SNAPSHOT_ENDPOINTS) {
    const summary = endpointSummary(endpoint);
    const parameters: JsonValue[] = endpoint.parameters.map((p) => ({
      name: p.name,
      in: "query",
      required: false,
      description: p.description,
      schema: parameterSchema(p.schema),
    }));
    const responses: Record<string, JsonValue> = {
      "200": {
        description: summary,
        headers: snapshotHeaders,
        content: { "application/json": { schema: toJson(endpoint.schema) } },
      },
      "503": plainError("The first snapshot is not built yet (plain text)."),
    };
    if (endpoint.badQueryMeans) responses["400"] = plainError(endpoint.badQueryMeans);
    paths[endpoint.path] = {
      get: { summary, operationId: operationId(endpoint.path), parameters, responses },
    };
  }
  const doc: Record<string, JsonValue> = {
    openapi: "3.1.0",
    info: {
      title: options.title ?? "denopool status API",
      version: options.version ?? "1",
      description:
        "Public JSON snapshots of the pool. Errors are plain text. See docs/json-api.md.",
    },
    paths,
    components: { schemas: components },
  };
  if (options.serverUrl) doc.servers = [{ url: options.serverUrl }];
  return doc;
}

function operationId(path: string): string {
  return "get" + path.slice("/api/".length).split("-").map((w) => w[0].toUpperCase() + w.slice(1))
    .join("");
}

/** A query parameter's schema as JSON, keys in the order the document has always had. */
function parameterSchema(schema: ParameterSchema): JsonValue {
  const out: Record<string, JsonValue> = { type: schema.type };
  if (schema.enum) out.enum = [...schema.enum];
  if (schema.default !== undefined) out.default = schema.default;
  if (schema.minimum !== undefined) out.minimum = schema.minimum;
  if (schema.maximum !== undefined) out.maximum = schema.maximum;
  return out;
}
