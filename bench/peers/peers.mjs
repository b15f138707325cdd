// Node peers: aws-jwt-verify (AWS's library for Lambda authorizers) and jose.
// Reads the fixture file written by the Rust harness, prints one JSON line per (library, alg).
import { readFileSync } from "node:fs";
import { JwtVerifier } from "aws-jwt-verify";
import { importJWK, jwtVerify } from "jose";

const fx = JSON.parse(readFileSync(process.argv[2], "utf8"));
const { issuer, audience, batches, batch } = fx;

async function measure(fn) {
  for (let i = 0; i < batch; i++) await fn(); // warm-up
  const per = [];
  for (let b = 0; b < batches; b++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) await fn();
    per.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  per.sort((a, b) => a - b);
  return per[Math.floor(per.length / 2)];
}

for (const { alg, token, jwk } of fx.cases) {
  const verifier = JwtVerifier.create({ issuer, audience, jwksUri: "https://keys.invalid/jwks.json" });
  verifier.cacheJwks({ keys: [jwk] });
  let ok = verifier.verifySync(token).sub === "alice";
  const ns1 = await measure(() => verifier.verifySync(token));
  console.log(JSON.stringify({ lib: "aws-jwt-verify (Node.js)", alg, ns: ns1, ok }));

  const key = await importJWK(jwk, alg);
  const opts = { issuer, audience, algorithms: [alg] };
  ok = (await jwtVerify(token, key, opts)).payload.sub === "alice";
  const ns2 = await measure(() => jwtVerify(token, key, opts));
  console.log(JSON.stringify({ lib: "jose (Node.js)", alg, ns: ns2, ok }));
}
