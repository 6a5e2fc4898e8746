// multipart/form-data (RFC 7578) from a whole request body: the parts with their names, file names,
// content types and bytes. The body has already been read under the server's size limit.

export interface Part {
  name: string;
  filename: string | null;
  contentType: string | null;
  data: Buffer;
}

export class MultipartError extends Error {}

/** The boundary of a multipart/form-data Content-Type, or null when it is not one. */
export function boundaryOf(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\s*(;|$)/i.test(contentType)) return null;
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const b = m ? (m[1] ?? m[2] ?? "") : "";
  return b.length > 0 && b.length <= 200 ? b : null;
}

function headerParam(header: string, key: string): string | null {
  const m = new RegExp(`;\\s*${key}="((?:[^"\\\\]|\\\\.)*)"|;\\s*${key}=([^;\\s]+)`, "i").exec(header);
  if (!m) return null;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : (m[2] ?? null);
}

export function parseMultipart(body: Buffer, boundary: string): Part[] {
  const delim = Buffer.from(`--${boundary}`);
  const parts: Part[] = [];
  let pos = body.indexOf(delim);
  if (pos < 0) throw new MultipartError("the body has no multipart boundary line");
  for (;;) {
    pos += delim.length;
    if (body.subarray(pos, pos + 2).toString("latin1") === "--") return parts; // closing delimiter
    if (body.subarray(pos, pos + 2).toString("latin1") !== "\r\n")
      throw new MultipartError("a boundary line is not followed by CRLF");
    pos += 2;
    const headEnd = body.indexOf("\r\n\r\n", pos);
    if (headEnd < 0) throw new MultipartError("a part has no end of headers");
    const headers = body.subarray(pos, headEnd).toString("utf8").split("\r\n");
    const next = body.indexOf(Buffer.concat([Buffer.from("\r\n"), delim]), headEnd + 4);
    if (next < 0) throw new MultipartError("the body ends inside a part (no closing boundary)");
    let disposition = "";
    let contentType: string | null = null;
    for (const h of headers) {
      const i = h.indexOf(":");
      if (i < 0) continue;
      const k = h.slice(0, i).trim().toLowerCase();
      const v = h.slice(i + 1).trim();
      if (k === "content-disposition") disposition = v;
      else if (k === "content-type") contentType = v;
    }
    const name = headerParam(disposition, "name");
    if (!/^form-data/i.test(disposition) || name === null)
      throw new MultipartError("a part has no Content-Disposition: form-data name");
    parts.push({
      name,
      filename: headerParam(disposition, "filename"),
      contentType,
      data: body.subarray(headEnd + 4, next),
    });
    pos = next + 2;
  }
}
