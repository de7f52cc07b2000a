package io.floe.common.auth;

import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import io.vertx.core.MultiMap;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a service authenticates its callers, on by default: a token file ({@code auth.tokens-file},
 * see {@link TokenStore}), or one token given directly (a service's own legacy setting, such as a
 * node's {@code http.auth-token}, holding the scopes that setting always meant), or nothing at all
 * only when {@code auth.disabled=true} says so (logged as a warning). Neither is a configuration
 * error; so is an empty token.
 */
public final class Auth {
  private static final Logger LOG = LoggerFactory.getLogger(Auth.class);
  public static final String TOKENS_FILE = "auth.tokens-file";
  public static final String DISABLED = "auth.disabled";
  private static final String BEARER = "Bearer ";

  private final TokenStore store;
  private final byte[] single;
  private final Principal singlePrincipal;

  private Auth(TokenStore store, byte[] single, Principal singlePrincipal) {
    this.store = store;
    this.single = single;
    this.singlePrincipal = singlePrincipal;
  }

  /**
   * @param tokenSetting the service's single-token setting (e.g. {@code http.auth-token}), or null
   * @param tokenScopes what that token may do
   */
  public static Auth load(Settings s, String tokenSetting, Set<Scope> tokenScopes) {
    Path file = s.path(TOKENS_FILE, null);
    String token = tokenSetting == null ? null : s.string(tokenSetting, null);
    boolean disabled = s.bool(DISABLED, false);
    if (tokenSetting != null && token == null && s.isSet(tokenSetting)) {
      throw new ConfigException(
          tokenSetting
              + ": the token is empty; set a token, "
              + TOKENS_FILE
              + ", or "
              + DISABLED
              + "=true to run without authentication");
    }
    if (disabled) {
      if (file != null || token != null) {
        throw new ConfigException(
            DISABLED
                + ": true, but "
                + (file != null ? TOKENS_FILE : tokenSetting)
                + " is set too; choose one");
      }
      LOG.warn(
          "{}=true: every caller is trusted; run like this only on a private, trusted network",
          DISABLED);
      return new Auth(null, null, null);
    }
    if (file != null) {
      if (token != null) {
        throw new ConfigException(
            tokenSetting + ": set either it or " + TOKENS_FILE + ", not both");
      }
      return new Auth(TokenStore.load(file, TOKENS_FILE), null, null);
    }
    if (token != null) {
      return new Auth(
          null,
          token.getBytes(StandardCharsets.UTF_8),
          new Principal("token", tokenScopes, List.of()));
    }
    throw new ConfigException(
        TOKENS_FILE
            + ": authentication is required: set "
            + TOKENS_FILE
            + (tokenSetting == null ? "" : " or " + tokenSetting)
            + ", or "
            + DISABLED
            + "=true to run without it");
  }

  /** Everyone is trusted (auth.disabled=true). */
  public static Auth disabled() {
    return new Auth(null, null, null);
  }

  public boolean enabled() {
    return store != null || single != null;
  }

  /**
   * The caller of a request with this {@code Authorization} header value.
   *
   * @throws AuthException 401 when the header is missing, not a bearer token, or an unknown token
   */
  public Principal authenticate(String authorization) {
    if (!enabled()) {
      return Principal.ANONYMOUS;
    }
    if (authorization == null) {
      throw AuthException.unauthorized("Authorization: Bearer <token> is required");
    }
    if (!authorization.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
      throw AuthException.unauthorized("the Authorization header must be 'Bearer <token>'");
    }
    String token = authorization.substring(BEARER.length()).trim();
    if (token.isEmpty() || token.length() > 4096) {
      throw AuthException.unauthorized("the bearer token is empty or too long");
    }
    Principal p = null;
    if (store != null) {
      p = store.find(token);
    } else if (MessageDigest.isEqual(token.getBytes(StandardCharsets.UTF_8), single)) {
      p = singlePrincipal;
    }
    if (p == null) {
      throw AuthException.unauthorized("the bearer token is not valid");
    }
    return p;
  }

  /**
   * The caller of a request with these headers: as {@link #authenticate(String)}, and a request
   * that carries more than one Authorization header is refused (401): which one counts would depend
   * on who reads it, a proxy or the service behind it.
   */
  public Principal authenticate(MultiMap headers) {
    List<String> all = headers.getAll("Authorization");
    if (all.size() > 1) {
      throw AuthException.unauthorized("more than one Authorization header");
    }
    return authenticate(all.isEmpty() ? null : all.get(0));
  }

  /**
   * The caller, who must hold {@code scope}: 401 as {@link #authenticate}, 403 without the scope.
   */
  public Principal require(String authorization, Scope scope) {
    Principal p = authenticate(authorization);
    if (!p.may(scope)) {
      throw AuthException.lacking(p, scope);
    }
    return p;
  }
}
