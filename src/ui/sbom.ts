import { HttpError } from '../http/errors.ts';
import type { UiDataSource } from './data-source.ts';

/**
 * The SBOM the repository panel offers (CycloneDX JSON of the main branch's inventory), the
 * same for every front door: Connect serves it behind a one-download link, Forge's panel
 * fetches it through invokeRemote and saves it from the frame.
 */
export async function mainBranchSbom(
  data: UiDataSource,
  where: { clientKey: string; repoUuid: string; mainBranch: string | null },
  /** `workspace/slug`, for the file name. */
  repoFullName: string,
): Promise<{ filename: string; content: string }> {
  const inventory = where.mainBranch ? await data.inventory(where.clientKey, where.repoUuid, where.mainBranch) : undefined;
  if (!inventory || inventory.sbom === '') throw new HttpError(404, 'no_sbom', 'No SBOM yet: the main branch has not been scanned');
  return { filename: `${repoFullName.replace('/', '_').replace(/[^\w.-]/g, '_')}-${inventory.commit.slice(0, 12)}.cdx.json`, content: inventory.sbom };
}
