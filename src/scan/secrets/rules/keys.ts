// Private keys and signed tokens: PEM private keys (RSA, EC, DSA, PKCS#8, encrypted
// PKCS#8), OpenSSH, PGP, PuTTY and SSH2 keys, base64-encoded PEM (kubeconfig, Kubernetes
// secrets), JSON Web Keys, age keys, PKCS#12 and Java keystore files, JWTs, and the base64
// data of Kubernetes Secret manifests.
import type { SecretRule } from '../rule.ts';
import { prefixed } from './build.ts';

/** One line break, real or escaped inside a string literal (`\n`, `\r\n`). */
const BREAK = '(?:\\s|\\\\[rn]){1,4}';
/** RFC 1421 headers such as `Proc-Type: 4,ENCRYPTED` or `Version: GnuPG`, each on its own line. */
const HEADERS = `(?:[A-Za-z\\-]{1,20}: [^\\r\\n\\\\]{1,100}${BREAK}){0,4}`;
/**
 * Base64 body with its (possibly escaped) line breaks. It cannot contain `-`, so it stops
 * at the END line and a run of BEGIN lines cannot make the regex rescan the same text.
 */
const BODY = '[A-Za-z0-9+/=\\s\\\\]';

const RSA_BODY = 'MIIEow6OX6K5iToph0B6T5jrLYpI/nqnFRR6DQOUQW0cr48VZQ1Lmof2N/pxxR+q\nHt9mf6J4p+wz2yNHmlXBQL4mAfixwhu+r+GY//3yXOtIgmevl6OF5QmvXrDnJnRg\n697cmKHj7LJdP4CCLScAM3JNGsRPXEtu3nyDeGG3UEkm2nA6jFOsZKVyOhxXFO22\n6iT8ykTWj+ewxmCFTOdlXehA5WmPSI8hq60SaYmo4zrMOxSw36U9nYu1BRFh9LlK\ngz+USVXb4cMcnuZ4rPwsUI/U+adzopi4==';

function pem(id: string, label: string, what: string, severity: SecretRule['severity'], body = '', sample = RSA_BODY): SecretRule {
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  return {
    id,
    description: `${what} private key`,
    severity,
    keywords: [begin.slice(5, -5).toLowerCase()],
    regex: `${begin}${BREAK}${HEADERS}(${body}${BODY}{64,12000})`,
    secretGroup: 1,
    entropy: 4,
    examples: {
      truePositives: [
        `${begin}\n${sample}\n${end}`,
        // The same key inside a JSON or code string, with escaped newlines.
        `"key": "${begin}\\n${sample.replaceAll('\n', '\\n')}\\n${end}\\n"`,
      ],
      falsePositives: [`${begin}\n...\n${end}`, `const header = "${begin}";`, `${begin}\nMIIETvUqiv5EIXNr\n${end}`],
    },
  };
}

export const KEY_RULES: readonly SecretRule[] = [
  pem('private-key-rsa', 'RSA PRIVATE KEY', 'PEM-encoded RSA (PKCS#1)', 'critical'),
  pem('private-key-ec', 'EC PRIVATE KEY', 'PEM-encoded elliptic-curve (SEC 1)', 'critical', '', 'MHcCAQEEcjYklCuQWd7Yu+md6yYA3PihylJuL+wwfAIX/2/G03Oz5/bFFHI5aNjd\nMkPQbZaAEqhbo0F6aD+RolGNVwBzp57UACm/Qm5zzIbHV6KfyuuPdacY3PCVGwPO\nmlvDuFCv7IOy2WCgltKmcwmbTwfgXPf0lpNd=='),
  pem('private-key-dsa', 'DSA PRIVATE KEY', 'PEM-encoded DSA', 'critical', '', 'MIIBuwIBAAKBgQd6f8mcGz8h1GW3+E/03f+OkGRhAIDSuv/VfhdboaHinDKUqYuG\n94pf1K9cR/dsux+HEt0M53cwpLgw4kxMjs/geR6eMksj9NdS4224m9Dl0bq64bgO\ncgxKTV4m2cRb/8fCHScLBme5x+3K8nHjGm+7AqZf8PyFl7vYsO8RFqmRoBBRbdeI\nH5lcgnyPEo1RKoE/I7Edw+Ew3v0ZY/dBvDqYLPFA'),
  pem('private-key-pkcs8', 'PRIVATE KEY', 'PEM-encoded PKCS#8', 'critical', '', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCl3fSmIfJBa5yojBZx43CGFZqMSiLpR5J\n7wq+SBm/t0DbbTqob6pwp+p2oN7ppjABYd/yCdSf2nrqVZmZnDXOHjvEz22Msl0r\nEDHkI542n50rZ1TD5UHYQDgbIdjl4aJ/cW1aMOqk+bVQ2GHEYEE0j9G0Wz2+EDft\nr9GazmoYZjKkI88rP/YLUij8hlxlsIRzJ6LJ+IQUovI8NycQ'),
  pem('private-key-pkcs8-encrypted', 'ENCRYPTED PRIVATE KEY', 'PEM-encoded encrypted PKCS#8 (protected by a passphrase)', 'high', '', 'MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHLTMoftSvySN+g1auhwK\nAITs4a+EQa7MFQbXhDsxhzKXfX7tZ+wQI7U+W7RByxLFj/LW6ixJabZKo5ugRwTK\n5DWXzWNHxB8A+r42sEh6JGl/j2dZhNGQoOZEEfTjdlyzgQMvB/m/u2YUkS3WSvNL'),
  // The body of an OpenSSH key starts with base64 of its magic string "openssh-key-v1\0".
  pem('private-key-openssh', 'OPENSSH PRIVATE KEY', 'OpenSSH', 'critical', 'b3BlbnNzaC1rZXktdjE', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\nJoh6B10erWnfylEvdPuSvd+HLe1TB48a8iVqFvoOaUrpHTpS8leJw1h6hO/5OW0ykrkvz9\nZq7ppfNOBC52NrAuFK0AzK/cIZrhbUW4KrUqmujN3jTJf5OIRXh94tFjr4J8hsw0UG4jql\nm5CnTsMDyWcbrmu8OnqGsG5kaBti9zdyNJue5xrj'),
  pem('private-key-pgp', 'PGP PRIVATE KEY BLOCK', 'PGP / GnuPG', 'critical', '', 'Version: GnuPG v2\n\nlQOYBGV8AJI8wggsiSREJshbdTK2zHeQ6oMAiJ/lcVxh14eAc+5fm6ogb2HszFlW\nkHLFGJ93RIflhBhxiCzSdvntYD0C4vSJhgianY3gDJXGNaMMb2LED/tjKKRCZRiP\nMS7/pwUwhEPS924Upp7Li3Nc/he1mZrIuAIEEMruM0xp6DOy7nSsdxoXaFrT6taR\n=AnhY'),
  {
    id: 'private-key-ssh2-encrypted',
    description: 'SSH2 (SSH.com / Tectia) encrypted private key',
    severity: 'high',
    keywords: ['begin ssh2 encrypted private key'],
    regex: `---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----${BREAK}${HEADERS}(${BODY}{64,12000})`,
    secretGroup: 1,
    entropy: 4,
    examples: {
      truePositives: [
        '---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nComment: "rsa-key-20260101"\nP2/56wAAAmN3hoAMd5tacSzpANPgjC8DYNhQgbvVOy8swn0xNR36wcKU1bl6lrmy\nYFUZvmNggBlvtSo0eMfY5UANoqivO7NHnRMgIrPy8EjZoIH0X4Jrd33wU6QoL3gZ\npxzOWEkyEGGkcF2ITpEL5cQXGxl4et4jJaz8Y2zH\n---- END SSH2 ENCRYPTED PRIVATE KEY ----',
        '---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nP2/56wAAA6kJURFhWGHoYi5L6/4i4s2E1oRTwhmqRQheRpRkljRqjxAzO0Dza1Gu\nQNGsmHbC/RFRij0RxZ1ccdn8ENKYmxWykWUO4mVsRBFQn0moTL5urPTLAkKodYwK\n---- END SSH2 ENCRYPTED PRIVATE KEY ----',
      ],
      falsePositives: ['---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n<key>\n---- END SSH2 ENCRYPTED PRIVATE KEY ----', 'echo "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----"'],
    },
  },
  {
    id: 'private-key-putty',
    description: 'PuTTY private key (.ppk)',
    severity: 'critical',
    keywords: ['private-lines:'],
    regex: `Private-Lines: \\d{1,3}${BREAK}(${BODY}{40,12000})`,
    secretGroup: 1,
    entropy: 4,
    examples: {
      truePositives: [
        'PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIT96UoXxRCoOuYID1juoWYW7F72kb67nnAJquhH5o\nnx8v88TphqPZFiK3gWJA\nPrivate-Lines: 1\nAAAAIRShL6QuFOGc0HPYbTvFl2w0zsfBc9l+MYKFBXLAEXG=\nPrivate-MAC: f9c1ed1fe7027aeb991f718be9be89efbf7cc8cc95873c9930eaa9c2f1066ac4',
        'Private-Lines: 14\nkOzieJkKyRlZDZM82X5bFFvWkKf6ia2nJvSN1ltrsSy9tASo4IuUiEXyN63Jzgdk\nSqLUid0VAJDPYDYyXqd62BB6JQHylnwKKo7+1WsCvdO7Aa1RjMcefn8O97gXP0FH\nlcgihBKWyI1cy8IbBw1PRkifp+vJoxV7+mGlv4MT7VTTHSIJFwlyYZUC4ubKZVjT',
      ],
      falsePositives: ['Private-Lines: 1\n<private key lines>', 'Private-Lines: 14'],
    },
  },
  {
    id: 'private-key-base64-pem',
    description: 'Base64-encoded PEM private key (kubeconfig client-key-data, Kubernetes TLS secrets, CI variables)',
    severity: 'critical',
    keywords: ['ls0tls1crudjtib'],
    // base64 of "-----BEGIN " followed by the base64 of each private-key label.
    regex: prefixed(
      'LS0tLS1CRUdJTiB(?:SU0EgUFJJVkFURSBLRVkt|QUklWQVRFIEtFWS0t|FQyBQUklWQVRFIEtFWS0t|PUEVOU1NIIFBSSVZBVEUgS0VZ|FTkNSWVBURUQgUFJJVkFURSBLRVkt|EU0EgUFJJVkFURSBLRVkt)[A-Za-z0-9+/]{100,20000}={0,2}',
      'A-Za-z0-9+/=',
    ),
    secretGroup: 1,
    entropy: 4,
    examples: {
      truePositives: ['    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlF25J0PIsLwFfPEarBdGsT4uQPEEWHxE8w6Nq0HTnh/DxYoa5K8kL59FElGJJPCPrHbRU0cDE0tLvJbI9nBUisLyx+ya5KKgEZBYukb8zqDrCs0u7/Mv7qmD1aq/CwqbzqIRSNmhjVPPfiPjgkXeDazKcLEmKnxiy41q267tYA07PoIyTPyCCfatgndRRlRDXmae1tv5BBIbcFSPNwjnCOt/pLeIEw0m5DPAmfAtccsMCILRmqyBM0HvpreIjj5bSz+C2FtxZUQpUdCkCDt0GkVxD29ErUF0eNsAUYD79fczqI=', '  tls.key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV27GBnTC7SJtX/g1sFLyNuMrbGB/hHnD7Mnf55o0XzFQAMYcQZLbaGbMrwb05Rw5U/KofZCUmxBhrOO0MCY8vBPkFWk1FhYOHnnu4hCAOyJhrVjIY9N8PkZTfNvUNdnLtI533ixpJ35JsjwxIddpX6OxYFPTFNDl88JVfouiB+/TVQJG1YgYSx7SuHhdlANLubvpVXyb/6M56rfz8363jGhMvtmmx9wLg0CvruaSwwrVrxCARkZfqowFT7Pp+lLe58UsLxJstPTKK83RPPTUu/DSIf2+Vvu5f1opHVbAT0GVBs/iiD+WyJdXDc/Mx4m1jc+GjGOQwnnib0TqJUMyBn87RY7HiHJKWloUZFQDuUigQ8h3+910+605TI1Zt030zrZxWGQ93mdzHx3qm5'],
      falsePositives: ['    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUMIlwDY0EH8yXjujb6vTRdFklWXP9F4btJpSz3IK68aPEXYdu1XeDFGKvGYI+SoXmTZ5XJUtUwJqXJi6qQi4LQEYCSCBGU5NMN+FsY1Ydi2ghNXdkggXXrmK7Ix0iCm3SOmMMuO+Ud//A9dTTZUwQxob2Nxmqv+jW420ph9tKvG0N7iYTag754vmo6URxEzNfBn6yOYwCOIu0WOd9Fz7oVR5Lw0MGr0IcBxHFrc2H94QevzWLd6OylQgeI4XpRuOilU93D8iOoe41ABckm6SoK9z3Tv5PialmwGNTVR65IwmNI', '  tls.key: LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0t'],
    },
  },
  {
    id: 'jwk-private-key',
    description: 'JSON Web Key with its private part ("d")',
    severity: 'critical',
    keywords: ['"kty"'],
    regex: '"d"[ \\t]{0,3}:[ \\t]{0,3}"([A-Za-z0-9_\\-]{40,1400})"',
    secretGroup: 1,
    entropy: 4,
    examples: {
      truePositives: ['{"kty":"EC","crv":"P-256","x":"WH2lxrLRrIAk3Ho4WWXqejwLK_AMOKotCLrzObV3Y1U","y":"LzYX6vhmTYpuWmI-eG4i5YMaHC2RX5vzcL_lTDz-2em","d":"Cx4mYZSnB9fC5zDxS2kDt7r_2E11Rgtoc52xwvdyjM8"}', '{"d": "vXBi4PCeuzWdDJq5Jz5xN7dHs0eHvR8HLpwUWgURKIPj_MFTEJ_ey5otLD-3SrxDA_QnEjCwFH53q6FTzru8YOjgZ3RmX-ndRPmQJgAcX5Vip9a5Bgs9AUvjKi2wuNWdUxLHeTY8SmUe3PZ2LlnUuZDe3DjXx4xh8imn2DNsu5PI4_RAJ5UE3HR3U37PIc44gF1pB4eP_4ON0oLnHouM1VI4HPO8Hz-0JxBmEKyEJ2OX9SMJIIl3Yc33N-hkAVjuayK4F22hUnpSc40e530bSJkH4ckSrh7GDIGcvpTsYzTz3Swno7QQ5zjts2XdD4q7Yfk_1yUy0tdiNq4wuMHUbI", "e": "AQAB", "kty": "RSA", "n": "PcpLoyRTeyOwbg5nJ-Easvxq3upDuDFkOnt5z7aFxs8E60TZaSirYGtheUc7khveO4WTBNanzmluv5VuRBndRCqES1-3VojbtiY0MDR_eUsvRh_E_Ay792zw4wQIIOuf55oUgNiEjOv6sUke8X9hNNPDCfSJJTe5U2bxSAr9E7dzouwplkvee-OJPqUbfwsTr3Ns6nWa-PDnNnMmhn2b6xbOuEdQDlu8gfYncj_ega7FizDqngDaDZhKLMbzb-m7kSn1LCodA6NI_h8U4ak8XPwTSet52CtcNfRdnOimUyvvYYdeC6IyUY6-D5kOfqczU0K0hqRa4KmQSFi6_t0hdG"}'],
      falsePositives: ['{"kty":"EC","crv":"P-256","x":"skI_JSQnasNGGHL-mjwYdhXQltumCyqqoU3qB9J9CPg","y":"btW5uvU96gUM_4e8G7PENR4WWcZ95Kw2uupPEEs6knR"}', '{"kty":"RSA","e":"AQAB","n":"0OELMaAsRw3nAZxBlTXvzVQhuVkWf-0hSQi2jOJ2HfBrMIRzzD1QlWzqSdVxz1ZJc6f-fhYHB5ur9yJljclyygp3kLTtrFsTXgwdf1SsaZPR44BPNixSR0KniP1PWocXtjuVyWIea8PjTBRau-fZDTkIjRZ3oBqGmvR-5NmLB5YBu3XUG2tunp785KLEUPYYviNQlQRE0yeEO3xmfwb4sLHW2xF5rrnCUVU0da71HpBSB05RwBy13UJQyveChDXVWHg6cWJAigAKBdDICtKq705mDKAQDdmcpzUw_8k-jZhWE97dDEZ7ulh91nvnzTq5D-4kqRcrwC0nRwpJHwZwBo","d":"<private exponent>"}'],
    },
  },
  {
    id: 'age-secret-key',
    description: 'age encryption secret key',
    severity: 'critical',
    keywords: ['age-secret-key-1'],
    regex: prefixed('AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}', 'A-Za-z0-9'),
    secretGroup: 1,
    examples: {
      truePositives: ['AGE-SECRET-KEY-182CN2EXE6HTSAKVA6QSTPNPKET70NTFGHC93FR2Y7HSQCTWAXAUPX67834', '# created: 2026-01-01T00:00:00Z\nSOPS_AGE_KEY=AGE-SECRET-KEY-1SWHVXTSX9594PZZUFV54C7UKL3VE5PHUKJMK35TJTER8WH0ERLNP76ACM3'],
      falsePositives: ['AGE-SECRET-KEY-1XXXXXXXXXX', 'recipient: age1i3pi96i1vb43rns7kfnoqk771fdy7huw33z59lddigth9mzvho895pmka7'],
    },
  },
  {
    id: 'pkcs12-file',
    description: 'PKCS#12 keystore (.p12/.pfx) committed to the repository; it bundles a private key',
    severity: 'high',
    keywords: [],
    regex: '',
    path: '\\.(?:[pP]12|[pP][fF][xX])$',
    // Only a real PKCS#12 file counts when its content is at hand: a text file named .p12 holds no key.
    verify: 'pkcs12',
    examples: {
      truePositives: ['certs/client.p12', 'deploy/signing/CodeSigning.PFX'],
      falsePositives: ['docs/p12-format.md', 'certs/client.p12.md', 'src/pfx/reader.ts'],
    },
  },
  {
    id: 'java-keystore-file',
    description: 'Java keystore (.jks/.keystore) committed to the repository; it usually holds private keys',
    severity: 'medium',
    keywords: [],
    regex: '',
    path: '\\.(?:jks|keystore)$',
    // Android's debug keystore has a published password and signs nothing of value.
    allowlist: { paths: ['(?:^|/)debug\\.keystore$'] },
    examples: {
      truePositives: ['app/release.keystore', 'src/main/resources/server.jks'],
      falsePositives: ['android/app/debug.keystore', 'docs/keystore.md'],
    },
  },
  {
    id: 'jwt',
    description: 'JSON Web Token (signed); often a long-lived session or service credential',
    severity: 'medium',
    keywords: ['eyj'],
    regex: prefixed('eyJ[A-Za-z0-9_\\-]{10,2000}\\.eyJ[A-Za-z0-9_\\-]{10,8000}\\.[A-Za-z0-9_\\-]{16,1000}', 'A-Za-z0-9_\\-'),
    secretGroup: 1,
    entropy: 4,
    verify: 'jwt',
    // The sample token from jwt.io is in countless tutorials.
    allowlist: { secrets: ['SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c$'] },
    examples: {
      truePositives: [
        'Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJKW7WVLvmWKnsPr0EHQbexq0uQAHmrroNXyYVEcTlanFJaQOUrPrexkJLE4QFfQ.tQaz54Ia8ZkMcXP2ZsAGvsIUwwFHYZUr7V4xQHODSPW',
        'const token = "eyJhbGciOiJSUzI1NiIsImtpZCI6IlJ6MngzUVdvS3pxRiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2F1dGguYWNtZS5pby8iLCJzdWIiOiJzdmMtZTI3ZDM3Y2UiLCJhdWQiOiJhcGkiLCJleHAiOjE4OTM0NTYwMDB9.u68DqNQZLF7wJGhxP5pedwjK5V5TksNDcI2xXr-DYOK5k_L7x_goREJs6E4khR1jvuYX7v4ueAcu8dzaq2eDEg";',
      ],
      falsePositives: [
        'token: eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c',
        'unsigned: eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1c2VyLTEifQ.',
        'header only: eyJhbGciOiJIUzI1NiJ9',
        // Starts like a JWT, but the first part decodes to {"id":...}, not a header with alg.
        'cursor: eyJpZCI6MTIzNDU2Nzg5MCwibiI6MX0.eyJwYWdlIjoyLCJzaXplIjo1MH0.c2lnbmF0dXJlLXBsYWNlaG9sZGVyMTIz',
      ],
    },
  },
  {
    id: 'kubernetes-secret-data',
    description: 'Base64 value in the data of a Kubernetes Secret manifest (base64 is an encoding, not encryption)',
    severity: 'high',
    keywords: ['kind: secret', 'kind: "secret"', "kind: 'secret'"],
    // An indented `key: value` line under a top-level `data:` map, within 40 lines of
    // `kind: Secret` (before or after it). The value is decoded and must be more than a
    // placeholder (verify: base64-value).
    regex: `(?<=^[ \\t]{0,2}data:[ \\t]*\\r?\\n(?:[ \\t]+[^\\n]{0,2000}\\r?\\n|[ \\t]*\\r?\\n){0,30})[ \\t]+[\\w.\\-]{1,253}:[ \\t]{0,3}(?:[|>][-+]?[ \\t]{0,3}\\r?\\n[ \\t]{1,40})?(["']?)([A-Za-z0-9+/]{8,20000}={0,2})\\1[ \\t]*(?:#[^\\n]{0,200})?$`,
    flags: 'm',
    secretGroup: 2,
    window: { before: 40, after: 40 },
    verify: 'base64-value',
    examples: {
      truePositives: [
        'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-user-pass\ntype: Opaque\ndata:\n  username: YWRtaW4=\n  password: Zk40cSF2Mjl6THdL',
        'apiVersion: v1\ndata:\n  # abbreviated\n  token: "cjlYcTJtVjd6TDR3QjFu"\nkind: "Secret"\nmetadata:\n  name: api',
      ],
      falsePositives: [
        'apiVersion: v1\nkind: Secret\nmetadata:\n  name: tiny\ndata:\n  extra: YmFyCg==\n  csrf: ""',
        'apiVersion: v1\nkind: Secret\ndata:\n  password: Y2hhbmdlbWU=\n  token: eHh4eHh4eHh4eA==',
        'apiVersion: v1\nkind: ConfigMap\ndata:\n  token: Zk40cSF2Mjl6THdL',
      ],
    },
  },
];
