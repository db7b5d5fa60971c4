/** How one installation's requests are authorised. One small module per strategy. */
export interface AuthStrategy {
  readonly kind: 'jwt' | 'oauth2-jwt' | 'bearer';
  /**
   * The `Authorization` header value for exactly this request. Called again for every attempt
   * and every redirect hop: a JWT's `qsh` covers method, path and query, and its `exp` is short.
   */
  authorize(method: string, url: URL): Promise<string>;
  /**
   * Bitbucket answered 401 to a request sent with `authorization`. Returns true when new
   * credentials might succeed (the caller then retries once); false when they cannot.
   */
  rejected(authorization: string): boolean;
  /**
   * Bitbucket answered 401 and `rejected` found nothing newer to try: the error to throw
   * instead of the 401, for a strategy whose credentials someone else renews (the caller then
   * waits for them rather than failing). Undefined: the 401 stands.
   */
  refusal?(authorization: string): Promise<Error | undefined>;
}

export interface InstallationCredentials {
  /** The Connect app key: `iss` of every outgoing JWT. */
  appKey: string;
  /** The installation's clientKey: `sub` of every outgoing JWT. */
  clientKey: string;
  /** The installation's shared secret (HS256 key). Never logged, never in an error. */
  sharedSecret: string;
}
