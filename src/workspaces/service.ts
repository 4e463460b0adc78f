import { DisabledCaches, type Caches, type NamedCache } from '../cache/index.ts';
import { uuidv7, isUuid, hashToken, randomToken, type Principal } from '../common/index.ts';
import type { Database } from '../db/index.ts';
import { notFound, validationFailed } from '../errors/index.ts';
import type { FormResource } from '../http/index.ts';
import { formOfResource } from './form-of.ts';
import {
  escalationOf,
  limitsOf,
  normaliseScopes,
  UNLIMITED,
  type KeyLimits,
} from './key-limits.ts';
import * as q from './queries.ts';

/** Every API key starts with this, so leaked keys are easy to recognise and scan for. */
export const API_KEY_PREFIX = 'fh_';

/** How long an unknown key's hash is remembered as unknown, in every cache layer. */
export const UNKNOWN_KEY_TTL_MS = 30_000;

/** Entries cached by a release before scopes lack both fields: they are looked up again. */
type CachedKey =
  | { id: string; workspace_id: string; scopes?: string[] | null; form_ids?: string[] | null }
  | { unknown: true };

export interface CreatedKey {
  id: string;
  name: string;
  key: string;
  prefix: string;
  created_at: Date;
  scopes: string[] | null;
  form_ids: string[] | null;
}

/** What `POST /api-keys` asks for: omitted scopes or forms mean all of them. */
export interface KeyRequest {
  scopes?: readonly string[] | undefined;
  form_ids?: readonly string[] | undefined;
}

export interface WorkspaceSettings {
  id: string;
  name: string;
  created_at: string;
  retention: { deliveries_days: number | null; responses_days: number | null };
}

const presentSettings = (row: q.WorkspaceSettingsRow): WorkspaceSettings => ({
  id: row.id,
  name: row.name,
  created_at: row.created_at.toISOString(),
  retention: {
    deliveries_days: row.retention_deliveries_days,
    responses_days: row.retention_responses_days,
  },
});

/** Workspaces and their API keys. Keys are returned once, on creation, and stored as SHA-256. */
export class WorkspaceService {
  private readonly adminKeyHash: string | undefined;
  private readonly touched = new Map<string, number>();
  /**
   * Live keys by hash, and unknown hashes for `UNKNOWN_KEY_TTL_MS` (a negative cache: a
   * flood of one bad key costs no queries; the 401 limit per address bounds how many
   * distinct bad keys one client can make us look up and store).
   */
  private readonly keys: NamedCache<CachedKey>;

  constructor(
    private readonly db: Database,
    adminKey: string | undefined,
    caches: Caches = new DisabledCaches(),
  ) {
    this.adminKeyHash = adminKey ? hashToken(adminKey) : undefined;
    this.keys = caches.named('api_keys');
  }

  async createWorkspace(name: string): Promise<{ id: string; name: string; api_key: string }> {
    const created = await this.db.transaction(async (tx) => {
      const workspace = await q.insertWorkspace(tx, uuidv7(), name);
      const key = await this.insertKey(tx, workspace.id, 'default');
      return { id: workspace.id, name: workspace.name, api_key: key.key };
    });
    await this.keys.invalidate(hashToken(created.api_key));
    return created;
  }

  async getWorkspace(id: string): Promise<{ id: string; name: string }> {
    const row = await q.findWorkspace(this.db, id);
    if (!row) throw notFound('workspace');
    return { id: row.id, name: row.name };
  }

  /** The workspace with its settings (`GET /workspace`). */
  async settings(id: string): Promise<WorkspaceSettings> {
    const row = await q.findWorkspaceSettings(this.db, id);
    if (!row) throw notFound('workspace');
    return presentSettings(row);
  }

  /**
   * `PATCH /workspace`: its name and retention. The worker applies retention: deliveries
   * (src/delivery/retention.ts) and responses, erased with all that holds their data
   * (src/erasure/retention.ts).
   */
  async updateSettings(
    id: string,
    patch: {
      name?: string;
      retention?: { deliveries_days?: number | null; responses_days?: number | null };
    },
  ): Promise<WorkspaceSettings> {
    const row = await q.updateWorkspaceSettings(this.db, id, {
      name: patch.name,
      deliveriesDays: patch.retention?.deliveries_days,
      responsesDays: patch.retention?.responses_days,
    });
    if (!row) throw notFound('workspace');
    return presentSettings(row);
  }

  /**
   * Creates a key with the requested limits. `caller` is the key asking (none: the CLI): a
   * key cannot give more than it has (403); unknown or deleted forms are refused (422).
   */
  async createKey(
    workspaceId: string,
    name: string,
    wanted: KeyRequest = {},
    caller: KeyLimits = UNLIMITED,
  ): Promise<CreatedKey> {
    const limits: KeyLimits = {
      scopes: normaliseScopes(wanted.scopes),
      formIds: wanted.form_ids ? [...new Set(wanted.form_ids.map((id) => id.toLowerCase()))] : null,
    };
    const refusal = escalationOf(caller, limits);
    if (refusal) throw refusal;
    if (limits.formIds) await this.checkForms(workspaceId, limits.formIds);
    const created = await this.insertKey(this.db, workspaceId, name, limits);
    await this.keys.invalidate(hashToken(created.key));
    return created;
  }

  /** The form a resource belongs to (the form restriction of keys, src/http/scopes.ts). */
  formOf(kind: FormResource, workspaceId: string, id: string): Promise<string | null | undefined> {
    return formOfResource(this.db, kind, workspaceId, id);
  }

  private async checkForms(workspaceId: string, formIds: readonly string[]): Promise<void> {
    const invalid = formIds.filter((id) => !isUuid(id));
    const live = new Set(
      await q.liveFormIds(
        this.db,
        workspaceId,
        formIds.filter((id) => isUuid(id)),
      ),
    );
    const unknown = [...invalid, ...formIds.filter((id) => isUuid(id) && !live.has(id))];
    if (unknown.length > 0)
      throw validationFailed(
        'form_ids names forms this workspace does not have',
        unknown.map((id) => ({ field: 'form_ids', message: `no form ${id}` })),
      );
  }

  listKeys(workspaceId: string, limit: number, beforeId?: string): Promise<q.ApiKeyRow[]> {
    return q.listApiKeys(this.db, workspaceId, limit, beforeId);
  }

  /** Revokes a key; `caller` may revoke only keys that have no more than it has (else 403). */
  async revokeKey(workspaceId: string, id: string, caller: KeyLimits = UNLIMITED): Promise<void> {
    if (caller !== UNLIMITED && (caller.scopes !== null || caller.formIds !== null)) {
      const target = isUuid(id) ? await q.findApiKey(this.db, workspaceId, id) : undefined;
      if (!target) throw notFound('API key');
      const refusal = escalationOf(caller, limitsOf(target));
      if (refusal) throw refusal;
    }
    const hash = isUuid(id) ? await q.revokeApiKey(this.db, workspaceId, id) : undefined;
    if (!hash) throw notFound('API key');
    await this.keys.invalidate(hash);
  }

  /**
   * Resolves a bearer key to its principal, or undefined when it is unknown or revoked.
   * `beforeLookup` runs only when the key is in no cache and must be queried; it may throw
   * (the 401 limit refusing the lookup). A created key is dropped from the negative cache
   * in every process at once, so it works at once; a key created by another process
   * without this cache (`formhub keys create` on another database handle) may answer 401
   * for up to `UNKNOWN_KEY_TTL_MS` if that very key was tried before it existed.
   */
  async authenticate(
    key: string,
    beforeLookup?: () => Promise<void>,
  ): Promise<Principal | undefined> {
    const hash = hashToken(key);
    if (this.adminKeyHash && hash === this.adminKeyHash) return { kind: 'admin' };
    if (!key.startsWith(API_KEY_PREFIX)) return undefined;
    let unknown = false;
    let refused: unknown;
    const load = async (): Promise<CachedKey | undefined> => {
      // Thrown from here the refusal would reach the caller wrapped by the cache library.
      try {
        await beforeLookup?.();
      } catch (error) {
        refused = error;
        return undefined;
      }
      const found = await q.findApiKeyByHash(this.db, hash);
      unknown = !found;
      return (
        found && {
          id: found.id,
          workspace_id: found.workspace_id,
          scopes: found.scopes,
          form_ids: found.form_ids,
        }
      );
    };
    let cached = await this.keys.get(hash, load);
    // An entry cached by a release before scopes has no `scopes`: look the key up again
    // rather than read "all" into it (a scoped key first seen by an older process).
    if (cached && !('unknown' in cached) && !('scopes' in cached)) {
      await this.keys.invalidate(hash);
      cached = await this.keys.get(hash, load);
    }
    if (refused !== undefined) throw refused;
    // Losing a negative entry (Redis down) only costs the next try of this key a query.
    if (unknown)
      await this.keys.set(hash, { unknown: true }, UNKNOWN_KEY_TTL_MS).catch(() => undefined);
    const row = cached && !('unknown' in cached) ? cached : undefined;
    if (!row) return undefined;
    this.touch(row.id);
    const limits = limitsOf(row);
    return {
      kind: 'workspace',
      workspaceId: row.workspace_id,
      keyId: row.id,
      scopes: limits.scopes,
      formIds: limits.formIds,
    };
  }

  /** Records a key's use at most once a minute per process (the query also guards it). */
  private touch(keyId: string): void {
    const now = Date.now();
    if ((this.touched.get(keyId) ?? 0) > now - 60_000) return;
    if (this.touched.size > 10_000) this.touched.clear();
    this.touched.set(keyId, now);
    // `last_used_at` is informational and the next use writes it again: no request waits or fails on it.
    q.touchApiKey(this.db, keyId).catch(() => undefined);
  }

  private async insertKey(
    db: Parameters<typeof q.insertApiKey>[0],
    workspaceId: string,
    name: string,
    limits: KeyLimits = UNLIMITED,
  ): Promise<CreatedKey> {
    const key = randomToken(API_KEY_PREFIX);
    const row = await q.insertApiKey(db, {
      id: uuidv7(),
      workspaceId,
      name,
      hash: hashToken(key),
      prefix: key.slice(0, API_KEY_PREFIX.length + 6),
      scopes: limits.scopes,
      formIds: limits.formIds,
    });
    return {
      id: row.id,
      name: row.name,
      key,
      prefix: row.key_prefix,
      created_at: row.created_at,
      scopes: row.scopes,
      form_ids: row.form_ids,
    };
  }
}
