/** A row of `so_memory` as SQL returns it. */
export interface MemoryRow {
  readonly id: string
  readonly key: string
  readonly layer: string
  readonly kind: string
  readonly scopes: string
  readonly tags: string
  readonly provenance: string
  readonly content: string
  readonly valid_from: string
  readonly valid_to: string | null
  readonly recorded_at: string
  readonly superseded_by: string | null
  readonly closed_reason: string | null
  readonly score?: number | string | null
}
