export {
  ArtifactStore,
  ARTIFACT_CHUNK_SIZE,
  ARTIFACT_LEASE_MS,
  deleteArtifacts,
  type ArtifactStoreOptions,
  type CreateArtifactOptions,
  type OpenedArtifact,
} from './artifact-store.ts';
export { ArtifactWriter, type StoredArtifact } from './artifact-writer.ts';
export { ArtifactReader } from './artifact-reader.ts';
