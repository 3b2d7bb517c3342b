// Sign-in for the deployed page: Cognito hosted UI, authorization code flow with PKCE.
// Locally (config.auth is null) the API needs no token and this does nothing.
(function () {
  const config = window.MEDIAFLOW_CONFIG || {};
  const auth = config.auth;
  const KEY = "mediaflow.token";

  function base64url(bytes) {
    return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function signIn() {
    const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
    sessionStorage.setItem("mediaflow.verifier", verifier);
    const challenge = base64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
    const params = new URLSearchParams({
      response_type: "code", client_id: auth.clientId, redirect_uri: auth.redirectUri,
      scope: "openid email", code_challenge_method: "S256", code_challenge: challenge,
    });
    location.assign(`https://${auth.domain}/oauth2/authorize?${params}`);
  }

  async function exchange(code) {
    const body = new URLSearchParams({
      grant_type: "authorization_code", client_id: auth.clientId, code, redirect_uri: auth.redirectUri,
      code_verifier: sessionStorage.getItem("mediaflow.verifier") || "",
    });
    const response = await fetch(`https://${auth.domain}/oauth2/token`, { method: "POST", body });
    if (!response.ok) throw new Error("sign-in failed");
    const tokens = await response.json();
    sessionStorage.setItem(KEY, JSON.stringify({ token: tokens.id_token, expires: Date.now() + tokens.expires_in * 1000 }));
    history.replaceState(null, "", auth.redirectUri);
  }

  window.mediaflowToken = async function () {
    if (!auth) return null;
    const code = new URLSearchParams(location.search).get("code");
    if (code) await exchange(code);
    const stored = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (stored && stored.expires > Date.now() + 60000) return stored.token;
    await signIn();
    return new Promise(() => {}); // the page is navigating away
  };
})();
