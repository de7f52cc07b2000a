package io.floe.catalog.local;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.apache.iceberg.util.JsonUtil;

/**
 * One call of the CLI to a Floe JSON API (the catalog service's {@code /floe/v1/...}, a node's
 * dead-letter API): the request with its bearer token, and the answer with its JSON when it has
 * one. The callers word what they print.
 */
final class ApiCall {
  private ApiCall() {}

  /** An answer: its status, its body, and the body as JSON (null when it is not JSON). */
  record Answer(int status, String body, JsonNode json) {
    boolean ok() {
      return status < 300;
    }

    /** What the refusal says: Floe's {@code detail}, an Iceberg error's message, or the body. */
    String detail() {
      return json == null
          ? body
          : json.path("detail").asText(json.path("error").path("message").asText(body));
    }
  }

  static Answer send(
      HttpClient http,
      String base,
      String method,
      String path,
      String body,
      String token,
      Duration timeout)
      throws IOException, InterruptedException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base.trim().replaceAll("/+$", "") + path))
            .timeout(timeout)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      request.header("Content-Type", "application/json");
    }
    if (token != null && !token.isBlank()) {
      request.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> response =
        http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode json;
    try {
      json = JsonUtil.mapper().readTree(response.body());
    } catch (IOException e) {
      json = null;
    }
    return new Answer(response.statusCode(), response.body(), json);
  }
}
