package io.floe.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.node.Node;
import io.floe.node.testing.BufferOnlyNode;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A producer that retries with the same Idempotency-Key gets the original acknowledgement, and its
 * events once.
 */
class IdempotencyTest {
  @TempDir Path dir;
  private Node node;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private Node start(Map<String, String> overrides) throws Exception {
    Map<String, String> s = new HashMap<>(Map.of("node.partition-id", "6"));
    s.putAll(overrides);
    node = BufferOnlyNode.start(dir.resolve("rocks"), s);
    return node;
  }

  @AfterEach
  void stop() throws Exception {
    if (node != null) {
      node.close();
    }
  }

  private HttpResponse<String> post(String key, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + node.port() + "/v1/streams/s/events"))
            .header("Content-Type", "application/x-ndjson")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      b.header("Idempotency-Key", key);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static final String BODY = "{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n";

  @Test
  void aRetryGetsTheOriginalAckAndNothingIsWrittenTwiceAlsoAfterARestart() throws Exception {
    start(Map.of());
    HttpResponse<String> first = post("order-17", BODY);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    assertThat(first.headers().firstValue("Idempotency-Replayed")).isEmpty();
    HttpResponse<String> retry = post("order-17", BODY);
    assertThat(retry.statusCode()).isEqualTo(200);
    assertThat(retry.headers().firstValue("Idempotency-Replayed")).hasValue("true");
    assertThat(new JsonObject(retry.body())).isEqualTo(new JsonObject(first.body()));
    assertThat(node.buffer().bufferedEvents()).isEqualTo(3);

    HttpResponse<String> other = post("order-18", BODY);
    assertThat(new JsonObject(other.body()).getLong("first_sequence")).isEqualTo(4);

    node.close();
    start(Map.of());
    HttpResponse<String> afterRestart = post("order-17", BODY);
    assertThat(afterRestart.headers().firstValue("Idempotency-Replayed")).hasValue("true");
    assertThat(new JsonObject(afterRestart.body())).isEqualTo(new JsonObject(first.body()));
    assertThat(node.buffer().bufferedEvents()).isEqualTo(6);
    assertThat(
            http.send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + node.port() + "/metrics"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body())
        .contains("floe_node_idempotent_replays_total 1.0");
  }

  @Test
  void aKeyReusedForADifferentRequestIsRefusedAndWritesNothing() throws Exception {
    start(Map.of());
    assertThat(post("k1", BODY).statusCode()).isEqualTo(200);
    HttpResponse<String> reused = post("k1", "{\"a\":9}\n");
    assertThat(reused.statusCode()).isEqualTo(422);
    assertThat(new JsonObject(reused.body()).getString("error"))
        .isEqualTo("idempotency_key_reused");
    assertThat(node.buffer().bufferedEvents()).isEqualTo(3);
    HttpResponse<String> bad = post("has space", BODY);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(bad.body()).getString("error")).isEqualTo("bad_idempotency_key");
  }

  @Test
  void concurrentRetriesOfOneKeyAreWrittenOnce() throws Exception {
    start(Map.of());
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      all.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return post("same", BODY);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              }));
    }
    Set<Long> firsts = new HashSet<>();
    for (CompletableFuture<HttpResponse<String>> f : all) {
      HttpResponse<String> r = f.get();
      assertThat(r.statusCode()).isEqualTo(200);
      firsts.add(new JsonObject(r.body()).getLong("first_sequence"));
    }
    assertThat(firsts).containsExactly(1L);
    assertThat(node.buffer().bufferedEvents()).isEqualTo(3);
  }

  @Test
  void keysAreForgottenBeyondTheCount() throws Exception {
    start(Map.of("idempotency.max-keys", "2"));
    post("a", BODY);
    post("b", BODY);
    post("c", BODY);
    assertThat(node.buffer().idempotencyKeys()).isEqualTo(2);
    HttpResponse<String> again = post("a", BODY);
    assertThat(again.headers().firstValue("Idempotency-Replayed"))
        .as("'a' was forgotten")
        .isEmpty();
    assertThat(new JsonObject(again.body()).getLong("first_sequence")).isEqualTo(10);
    assertThat(post("c", BODY).headers().firstValue("Idempotency-Replayed")).hasValue("true");
  }
}
