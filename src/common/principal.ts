/**
 * Who a bearer key says the caller is. A leaf type: workspaces answer it and the HTTP auth
 * hooks read it, and neither has to import the other for it.
 */
export type Principal =
  { kind: 'admin' } | { kind: 'workspace'; workspaceId: string; keyId: string };
