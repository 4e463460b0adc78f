import { useEffect, useState } from 'preact/hooks';

/** The console's client routes, all under /console/ (the hub answers each with index.html). */
export type Route =
  | { name: 'forms' }
  | { name: 'notifications' }
  | { name: 'dashboard'; formId: string }
  | { name: 'export'; formId: string }
  | { name: 'integrations'; formId: string }
  | { name: 'missing' };

const BASE = '/console';

/** Parses a pathname into a route. Pure. */
export function parseRoute(pathname: string): Route {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  const parts = rest.split('/').filter(Boolean);
  if (parts.length === 0) return { name: 'forms' };
  if (parts[0] === 'notifications' && parts.length === 1) return { name: 'notifications' };
  // Form ids are UUIDs: anything else in that place (e.g. `..%2F`) must not reach an API path.
  if (parts[0] === 'forms' && parts[1] && /^[0-9a-f-]{36}$/i.test(parts[1])) {
    const formId = parts[1];
    if (parts.length === 2) return { name: 'dashboard', formId };
    if (parts[2] === 'export' && parts.length === 3) return { name: 'export', formId };
    if (parts[2] === 'integrations' && parts.length === 3) return { name: 'integrations', formId };
  }
  return { name: 'missing' };
}

/** The path of a route. */
export function pathOf(route: Route): string {
  switch (route.name) {
    case 'dashboard':
      return `${BASE}/forms/${encodeURIComponent(route.formId)}`;
    case 'export':
      return `${BASE}/forms/${encodeURIComponent(route.formId)}/export`;
    case 'integrations':
      return `${BASE}/forms/${encodeURIComponent(route.formId)}/integrations`;
    case 'notifications':
      return `${BASE}/notifications`;
    default:
      return `${BASE}/`;
  }
}

export function navigate(path: string): void {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

/** The current route, following pushState and the back button. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname));
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  return route;
}

/** Handles a click on an internal link without reloading (modified clicks open a tab as usual). */
export function followLink(event: MouseEvent): void {
  if (
    event.defaultPrevented ||
    event.button !== 0 ||
    event.metaKey ||
    event.ctrlKey ||
    event.shiftKey ||
    event.altKey
  )
    return;
  const anchor = event.currentTarget as HTMLAnchorElement;
  event.preventDefault();
  navigate(anchor.pathname);
}
