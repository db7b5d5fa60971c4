import type { Router } from 'express';
import type { Config } from '../config.ts';
import type { ClientSource } from '../codehost/cloud/clients.ts';
import type { Diagnostics } from '../core/diagnostics/view.ts';
import type { Logger } from '../log.ts';
import type { ResultsStore } from '../store/results-types.ts';
import type { Store } from '../store/types.ts';
import { storeDataSource } from '../ui/data-source.ts';
import { bitbucketPeople } from '../ui/people.ts';
import { bitbucketPermissions } from '../ui/permissions.ts';
import { bitbucketRepositories } from '../ui/repositories.ts';
import { addUiRoutes, UI_PATHS } from '../ui/routes.ts';

/**
 * The iframe pages Bitbucket embeds (two web panels and the settings page, at the URLs the
 * descriptor declares) and the requests they make. The pages themselves live in src/ui;
 * this binds them to the app's stores and its Bitbucket clients.
 */
export const PAGE_PATHS = {
  repositoryPanel: UI_PATHS.repositoryPanel,
  pullRequestPanel: UI_PATHS.pullRequestPanel,
  settings: UI_PATHS.settings,
} as const;

export interface PageDeps {
  config: Config;
  store: Store;
  results: ResultsStore;
  /** Bitbucket clients per installation: permission checks, repository and people lookups. */
  clients: ClientSource;
  now: () => Date;
  logger: Logger;
  diagnostics?: Diagnostics;
}

export function addPageRoutes(router: Router, deps: PageDeps): void {
  addUiRoutes(router, {
    config: deps.config,
    store: deps.store,
    data: storeDataSource(deps.results, deps.store),
    permissions: bitbucketPermissions(deps.clients),
    repositories: bitbucketRepositories(deps.clients),
    people: bitbucketPeople(deps.clients),
    now: deps.now,
    logger: deps.logger,
    ...(deps.diagnostics ? { health: (clientKey: string) => deps.diagnostics!.forInstallation(clientKey) } : {}),
  });
}
