import { createBitbucketClient, type BitbucketClient } from '../../src/bitbucket/client.ts';
import type { Simulator } from '../../src/simulator/simulator.ts';
import { APP_KEY } from '../simulator-fake-app.ts';

/**
 * The app's real REST client for the simulator's installation (made for the fake app's
 * key), without sleeping between retries.
 */
export function simulatorClient(sim: Simulator, auth: 'jwt' | 'oauth2-jwt' = 'jwt'): BitbucketClient {
  const inst = sim.installation()!;
  return createBitbucketClient({
    appKey: APP_KEY,
    clientKey: inst.clientKey,
    sharedSecret: inst.sharedSecret,
    baseUrl: inst.baseUrl,
    baseApiUrl: inst.baseApiUrl,
    allowedApiOrigins: [sim.apiOrigin],
    allowedBaseOrigins: [sim.webOrigin],
    auth,
    sleep: async () => undefined,
  });
}
