package io.floe.router;

import io.floe.common.http.JsonResponses;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The operator console's static files, served from the router's jar under {@link #ROOT} without a
 * token (they hold no data: the page asks {@code /v1/cluster} with the token the operator typed or
 * put in the URL fragment, which browsers never send to the server). Every answer forbids framing,
 * inline scripts and any other origin ({@code Content-Security-Policy}), and referrers.
 */
final class ConsoleAssets {
  static final String ROOT = "/console";

  private static final String CSP =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
          + " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  private record Asset(String contentType, Buffer body) {}

  private final Map<String, Asset> assets;

  ConsoleAssets() {
    assets =
        Map.of(
            ROOT + "/", load("index.html", "text/html; charset=utf-8"),
            ROOT + "/console.js", load("console.js", "text/javascript; charset=utf-8"),
            ROOT + "/console.css", load("console.css", "text/css; charset=utf-8"));
  }

  private static Asset load(String name, String contentType) {
    try (InputStream in = ConsoleAssets.class.getResourceAsStream("console/" + name)) {
      if (in == null) {
        throw new IllegalStateException("console asset " + name + " is missing from the jar");
      }
      return new Asset(contentType, Buffer.buffer(in.readAllBytes()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether {@code path} is the console's. */
  static boolean owns(String path) {
    return path.equals(ROOT) || path.startsWith(ROOT + "/");
  }

  void serve(HttpServerRequest req) {
    HttpServerResponse response = req.response();
    if (req.method() != HttpMethod.GET && req.method() != HttpMethod.HEAD) {
      JsonResponses.error(
          response, 405, "method_not_allowed", req.method() + " is not allowed on " + req.path());
      return;
    }
    if (req.path().equals(ROOT)) {
      response.setStatusCode(308).putHeader("Location", ROOT + "/").end();
      return;
    }
    Asset asset = assets.get(req.path());
    if (asset == null) {
      JsonResponses.error(response, 404, "not_found", "no console file " + req.path());
      return;
    }
    response
        .putHeader("Content-Type", asset.contentType)
        .putHeader("Cache-Control", "no-cache")
        .putHeader("Content-Security-Policy", CSP)
        .putHeader("Referrer-Policy", "no-referrer")
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("X-Frame-Options", "DENY");
    if (req.method() == HttpMethod.HEAD) {
      response.putHeader("Content-Length", Integer.toString(asset.body.length())).end();
    } else {
      response.end(asset.body);
    }
  }
}
