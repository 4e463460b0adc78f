/**
 * The API key lives in this tab's sessionStorage and nowhere else: not in localStorage,
 * cookies, URLs or logs. Closing the tab forgets it.
 */
const KEY = 'formhub.apiKey';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function storeKey(key: string): void {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
}
