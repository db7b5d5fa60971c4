// `gatehouse db update`: the only networked part of dependency scanning.
export { VulnDbError } from './errors.ts';
export { formatSummary, updateVulnDb, type EcosystemChange, type UpdateOptions, type UpdateSummary } from './update.ts';
