// OpenAI's audio API shapes for `vox serve`: the transcription request (multipart fields), the
// response in each response_format (formatted by lib/transcript.ts, as `vox transcribe` does), the
// model list and the error body {error: {message, type, param, code}}.
import {
  buildTranscript,
  OUTPUT_FORMATS,
  type OutputFormat,
  renderTranscript,
  type TimedToken,
} from "../../lib/transcript.js";
import type { Part } from "./multipart.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    readonly type = status === 401 ? "authentication_error" : status >= 500 ? "server_error" : "invalid_request_error",
  ) {
    super(message);
  }
}

export function errorBody(e: ApiError): string {
  return JSON.stringify({ error: { message: e.message, type: e.type, param: e.param, code: e.code } });
}

export type Granularity = "segment" | "word";

export interface TranscriptionRequest {
  file: Part;
  model: string;
  format: OutputFormat;
  granularities: Granularity[];
}

/** The form's fields checked: file, model, response_format, timestamp_granularities[]. */
export function parseTranscriptionForm(parts: Part[], models: readonly string[]): TranscriptionRequest {
  const field = (n: string) =>
    parts
      .find((p) => p.name === n && p.filename === null)
      ?.data.toString("utf8")
      .trim();
  const file = parts.find((p) => p.name === "file");
  if (!file || file.data.length === 0)
    throw new ApiError(400, "No audio: send the audio as the multipart field 'file'", "file", "missing_file");
  const model = field("model");
  if (!model) throw new ApiError(400, "Missing required parameter: 'model'", "model", "missing_model");
  if (!models.includes(model)) {
    throw new ApiError(
      404,
      `The model '${model}' does not exist. Use one of: ${models.join(", ")} (GET /v1/models)`,
      "model",
      "model_not_found",
    );
  }
  const format = (field("response_format") ?? "json") as OutputFormat;
  if (!OUTPUT_FORMATS.includes(format)) {
    throw new ApiError(
      400,
      `response_format '${format}' is not one of ${OUTPUT_FORMATS.join(", ")}`,
      "response_format",
      "invalid_value",
    );
  }
  const granularities: Granularity[] = [];
  for (const p of parts.filter((q) => q.name === "timestamp_granularities[]" || q.name === "timestamp_granularities")) {
    const g = p.data.toString("utf8").trim();
    if (g !== "segment" && g !== "word") {
      throw new ApiError(
        400,
        `timestamp_granularities '${g}' is not segment or word`,
        "timestamp_granularities",
        "invalid_value",
      );
    }
    if (!granularities.includes(g)) granularities.push(g);
  }
  if (granularities.length > 0 && format !== "verbose_json") {
    throw new ApiError(
      400,
      "timestamp_granularities needs response_format verbose_json",
      "timestamp_granularities",
      "invalid_value",
    );
  }
  return { file, model, format, granularities };
}

/** The response body and its content type. verbose_json keeps segments unless only word
 *  granularity was asked for, and words only when it was (as OpenAI does). */
export function transcriptionResponse(
  tokens: readonly TimedToken[],
  audioMs: number,
  format: OutputFormat,
  granularities: readonly Granularity[],
): { contentType: string; body: string } {
  const t = buildTranscript(tokens, audioMs);
  const body = renderTranscript(t, format);
  if (format === "json") return { contentType: "application/json", body };
  if (format !== "verbose_json") return { contentType: "text/plain; charset=utf-8", body };
  const v = JSON.parse(body) as Record<string, unknown>;
  const g = granularities.length > 0 ? granularities : ["segment"];
  if (!g.includes("segment")) delete v.segments;
  if (!g.includes("word")) delete v.words;
  return { contentType: "application/json", body: `${JSON.stringify(v)}\n` };
}

export function modelsList(models: readonly string[], created: number): Record<string, unknown> {
  return { object: "list", data: models.map((id) => ({ id, object: "model", created, owned_by: "vox" })) };
}
