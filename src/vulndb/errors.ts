/** A `db update` failure the operator can act on; the previous database stays in use. */
export class VulnDbError extends Error {
  override name = 'VulnDbError';
}
