import { listenForApp, type InProcessApp } from '../app-harness.ts';
import { startSimulator, type Simulator, type SimulatorOptions } from '../simulator.ts';
import { LocalForge } from './local-forge.ts';

/**
 * The Forge counterpart of ../session.ts: the app in-process with its Forge front door on,
 * the simulated Bitbucket, and the local Forge with the app registered (its id becomes
 * FORGE_APP_ID, its JWKS FORGE_JWKS_URL), the manifest the app renders deployed, and the app
 * installed in a workspace, as `forge register`, `forge deploy` and `forge install` do.
 */

export interface ForgeSessionOptions {
  dataDir: string;
  appPort?: number;
  webPort?: number;
  apiPort?: number;
  forgePort?: number;
  workspace?: string;
  logLevel?: string;
  /** Pause between Forge's retries (Forge: 60 s). */
  retryDelayMs?: number;
  simulator?: Partial<SimulatorOptions>;
}

export interface ForgeSession {
  sim: Simulator;
  forge: LocalForge;
  app: InProcessApp;
  appBaseUrl: string;
  stop(): Promise<void>;
}

export async function startForgeSession(opts: ForgeSessionOptions): Promise<ForgeSession> {
  const app = await listenForApp({ dataDir: opts.dataDir, port: opts.appPort ?? 0, logLevel: opts.logLevel });
  let sim: Simulator | undefined;
  let forge: LocalForge | undefined;
  try {
    sim = await startSimulator({ ...opts.simulator, appBaseUrl: app.baseUrl, webPort: opts.webPort ?? 0, apiPort: opts.apiPort ?? 0 });
    forge = await LocalForge.start({ sim, port: opts.forgePort ?? 0, retryDelayMs: opts.retryDelayMs ?? 1000 });
    await app.attach({ web: sim.webOrigin, api: sim.apiOrigin }, { appId: forge.appId, jwksUrl: forge.jwksUrl });
    const manifest = app.forgeManifest();
    forge.deploy(manifest.yaml, manifest.dir);
    await forge.install(opts.workspace ?? 'acme');
    const [started, local] = [sim, forge];
    return {
      sim: started,
      forge: local,
      app,
      appBaseUrl: app.baseUrl,
      async stop() {
        // The app first: its running jobs still publish to the simulator while they finish.
        await app.stop();
        await local.stop();
        await started.stop();
      },
    };
  } catch (error) {
    await app.stop();
    await forge?.stop();
    await sim?.stop();
    throw error;
  }
}
