package io.floe.node.http;

import io.floe.node.error.IngestException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** Requires {@code Authorization: Bearer <token>} when a token is configured; constant-time compare. */
public final class BearerAuth implements Handler<RoutingContext> {
  private static final String PREFIX = "Bearer ";
  private final byte[] token;

  /** @param token the expected token, or null to let every request through */
  public BearerAuth(String token) {
    this.token = token == null ? null : token.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (token != null) {
      String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
      byte[] given =
          header != null && header.regionMatches(true, 0, PREFIX, 0, PREFIX.length())
              ? header.substring(PREFIX.length()).trim().getBytes(StandardCharsets.UTF_8)
              : new byte[0];
      if (!MessageDigest.isEqual(given, token)) {
        throw new IngestException.Unauthorized(
            header == null ? "Authorization: Bearer <token> is required" : "the bearer token is wrong");
      }
    }
    ctx.next();
  }
}
