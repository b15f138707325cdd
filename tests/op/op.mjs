// A real OpenID Provider on loopback for the sign-in suites: `oidc-provider` (a certified
// implementation, pinned by package-lock.json, installed by `make oidc-deps`).
//
//   OP_CONFIG='{"clients": [...], "port": 0}' node tests/op/op.mjs
//
// Prints `listening <issuer>` once it serves (`http://127.0.0.1:<port>`, the port the system
// chose when `port` is 0). Every key and secret is made at start or given by the caller:
// signing keys (RS256, ES256) and cookie keys are generated here, client secrets come in
// OP_CONFIG. Sign-in uses the provider's development pages (any user name, any password).
// SIGTERM or SIGINT stops it.
import Provider from 'oidc-provider';
import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

const config = JSON.parse(process.env.OP_CONFIG ?? '{}');
const signingKey = (alg, type, options) => ({
  ...generateKeyPairSync(type, options).privateKey.export({ format: 'jwk' }),
  alg,
  use: 'sig',
  kid: `${alg}-${randomBytes(6).toString('hex')}`,
});

const server = createServer();
server.listen(Number(config.port ?? 0), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: config.clients ?? [],
    jwks: {
      keys: [
        signingKey('RS256', 'rsa', { modulusLength: 2048 }),
        signingKey('ES256', 'ec', { namedCurve: 'P-256' }),
      ],
    },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    // PKCE (S256) for every client, not only public ones.
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], groups: ['groups'] },
    findAccount: (ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, email: `${sub}@example.test`, email_verified: true, groups: config.groups ?? [] }),
    }),
    // Scope claims in the ID token too (by default only at userinfo).
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    enabledJWA: { idTokenSigningAlgValues: ['RS256', 'ES256'] },
    ttl: { AuthorizationCode: 60, IdToken: 300, AccessToken: 300, Session: 600, Interaction: 600, Grant: 600 },
  });
  server.on('request', provider.callback());
  console.log(`listening ${issuer}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => server.close(() => process.exit(0)));
}
