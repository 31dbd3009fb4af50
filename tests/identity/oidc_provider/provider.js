// A certified OpenID provider (oidc-provider) for the identity tests, on 127.0.0.1 over HTTPS.
//
// node provider.js CONFIG.json, where CONFIG names the TLS certificate and key (the tests' trustme CA),
// the clients and the accounts: {"tls": {"cert", "key"}, "clients": [...], "accounts": {"login": {"email",
// "name", "groups"}}}. Sign-in uses the provider's built-in development pages: any password is accepted for
// a login listed in "accounts". Once listening it prints {"issuer": "https://127.0.0.1:PORT"} on one line.
import { readFileSync } from "node:fs";
import https from "node:https";

import Provider from "oidc-provider";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
let handle = (request, response) => response.writeHead(503).end();
const server = https.createServer(
  { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) },
  (request, response) => handle(request, response),
);

server.listen(0, "127.0.0.1", () => {
  const issuer = `https://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: config.clients,
    // The claims of the requested scopes go into the ID token, as Entra ID and Keycloak put them there.
    conformIdTokenClaims: false,
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "groups"] },
    cookies: { keys: ["enclave-tests-only"] },
    findAccount: (ctx, id) => {
      const account = config.accounts[id];
      if (!account) return undefined;
      return { accountId: id, claims: () => ({ sub: id, email_verified: true, ...account }) };
    },
  });
  handle = provider.callback();
  console.log(JSON.stringify({ issuer }));
});
