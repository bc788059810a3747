import { ApiError } from './client';
import { currentToken, signOut } from './session';

// Files the API serves behind the bearer token (an export's downloadUrl, a job's output): a plain
// link cannot send the Authorization header, so the page fetches the file with the token and hands
// it to the browser as a blob URL. The whole file is held in memory once; the API's files are
// exports and job outputs a person downloads, not streams for other programs (those use the REST
// routes directly).

/** `filename="…"` (or RFC 5987 `filename*=UTF-8''…`) of a Content-Disposition header. */
export function fileNameOf(disposition: string | null): string | null {
  if (!disposition) return null;
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
  if (extended?.[1]) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch {
      // A malformed escape: fall back to the plain filename.
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)/i.exec(disposition);
  const name = (plain?.[1] ?? plain?.[2])?.trim();
  return name || null;
}

/** A file name the operating system accepts: no path separators or control characters. */
export function safeFileName(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
  const cleaned = name.replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, '-').replace(/^[.\s-]+|[.\s]+$/g, '');
  return cleaned || 'download';
}

/**
 * GETs `path` with the session's token and saves the answer as a file: `fileName`, else the
 * server's Content-Disposition name. Returns the name used; throws ApiError with the server's
 * message (a JSON `{ message }` body) when it answers with an error.
 */
export async function downloadWithToken(path: string, fileName?: string): Promise<string> {
  const token = currentToken();
  let response: Response;
  try {
    response = await fetch(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  } catch {
    throw new ApiError('The server cannot be reached.', 'NETWORK');
  }
  if (!response.ok) {
    let message = `The download failed (${response.status}).`;
    try {
      const body = (await response.json()) as { message?: unknown };
      if (typeof body.message === 'string') message = body.message;
    } catch {
      // Not JSON: keep the status line.
    }
    if (response.status === 401) {
      signOut();
      throw new ApiError(message, 'UNAUTHENTICATED');
    }
    throw new ApiError(message, String(response.status));
  }
  const blob = await response.blob();
  const name = safeFileName(fileName ?? fileNameOf(response.headers.get('content-disposition')) ?? 'download');
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The browser reads the blob after the click returns: release it a little later.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}
