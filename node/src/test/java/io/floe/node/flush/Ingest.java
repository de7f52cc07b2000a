package io.floe.node.flush;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.assertj.core.api.Assertions;

/** Test helper: sends uniquely tagged NDJSON batches and remembers what was acknowledged. */
final class Ingest {
  private final HttpClient http;
  private final String scheme;
  final Map<Long, String> acknowledged = new ConcurrentHashMap<>();

  Ingest() {
    this.http = HttpClient.newHttpClient();
    this.scheme = "http";
  }

  /** Over TLS, trusting what {@code tls} trusts. */
  Ingest(SSLContext tls) {
    this.http = HttpClient.newBuilder().sslContext(tls).build();
    this.scheme = "https";
  }

  /**
   * Sends {@code count} events tagged {@code tag-i}; returns the response (200 ones are recorded).
   */
  HttpResponse<String> send(int port, String stream, String tag, int count) throws Exception {
    StringBuilder body = new StringBuilder();
    String[] payloads = new String[count];
    for (int i = 0; i < count; i++) {
      payloads[i] = "{\"id\":\"" + tag + "-" + i + "\",\"pad\":\"" + "x".repeat(60) + "\"}";
      body.append(payloads[i]).append('\n');
    }
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        scheme + "://127.0.0.1:" + port + "/v1/streams/" + stream + "/events"))
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() == 200) {
      long first = new JsonObject(r.body()).getLong("first_sequence");
      for (int i = 0; i < count; i++) {
        acknowledged.put(first + i, payloads[i]);
      }
    }
    return r;
  }

  HttpResponse<String> post(int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(scheme + "://127.0.0.1:" + port + path))
            .POST(HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** POST /v1/flush until it answers 200 or a minute has passed; returns the last answer. */
  HttpResponse<String> flushUntilCommitted(int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    HttpResponse<String> flushed = post(port, "/v1/flush");
    while (flushed.statusCode() != 200 && System.nanoTime() < deadline) {
      Thread.sleep(200);
      flushed = post(port, "/v1/flush");
    }
    return flushed;
  }

  HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(scheme + "://127.0.0.1:" + port + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Asserts the rows of {@code partition} are exactly the acknowledged events: none lost, none
   * twice.
   */
  static void assertExactly(List<TableEnv.Row> rows, int partition, Map<Long, String> expected) {
    Map<Long, String> seen = new HashMap<>();
    for (TableEnv.Row row : rows) {
      if (row.partitionId() != partition) {
        continue;
      }
      String previous = seen.put(row.sequence(), row.payload());
      Assertions.assertThat(previous)
          .as("sequence %d of partition %d is in the table twice", row.sequence(), partition)
          .isNull();
    }
    Assertions.assertThat(seen).isEqualTo(expected);
  }
}
