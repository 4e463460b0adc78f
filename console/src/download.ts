import { request } from './api.ts';
import { fileNameOf } from './filter.ts';

/**
 * Downloads a file from the API with the key in the Authorization header (a plain link
 * could not send it), then hands the browser a blob URL to save.
 */
export async function downloadFile(
  path: string,
  fallbackName: string,
): Promise<{ name: string; size: number }> {
  const res = await request(path);
  const blob = await res.blob();
  const name = fileNameOf(res.headers.get('content-disposition'), fallbackName);
  const url = URL.createObjectURL(blob);
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = name;
  anchor.hidden = true;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { name, size: blob.size };
}
