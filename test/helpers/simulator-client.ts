import { createBitbucketClient, type BitbucketClient } from '../../src/bitbucket/client.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/simulator.ts';
import { APP_KEY, appJwt, startFakeApp, type FakeApp } from '../simulator-fake-app.ts';

/** Where most simulator tests start: the fake app, and a simulator that has installed it. */
export async function startInstalled(
  options: { descriptor?: Record<string, unknown>; simulator?: Omit<SimulatorOptions, 'appBaseUrl'> } = {},
): Promise<{ fake: FakeApp; sim: Simulator }> {
  const fake = await startFakeApp(options.descriptor);
  const sim = await startSimulator({ appBaseUrl: fake.baseUrl, retryDelayMs: 0, ...options.simulator });
  await sim.install();
  return { fake, sim };
}

/** `Authorization` for a call to the simulator signed as its installed app, qsh relative to the URL's origin. */
export function installedAppAuth(sim: Simulator, method: string, url: string): string {
  const inst = sim.installation()!;
  return appJwt({ method, url, baseUrl: new URL(url).origin, clientKey: inst.clientKey, secret: inst.sharedSecret });
}

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
