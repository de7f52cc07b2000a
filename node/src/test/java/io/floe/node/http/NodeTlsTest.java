package io.floe.node.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.common.testing.Certificates;
import io.floe.common.testing.Certificates.Pem;
import io.floe.node.Node;
import io.floe.node.testing.BufferOnlyNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node with http.tls.* takes events over HTTPS (HTTP/2 by ALPN, or HTTP/1.1) and nothing in
 * plaintext.
 */
class NodeTlsTest {
  @TempDir Path dir;
  private Node node;

  @AfterEach
  void stop() throws Exception {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void ingestsOverTlsOnly() throws Exception {
    Pem pem = Certificates.selfSigned(dir, "node");
    node =
        BufferOnlyNode.start(
            dir.resolve("rocks"),
            Map.of(
                "http.tls.cert-file",
                pem.cert().toString(),
                "http.tls.key-file",
                pem.key().toString()));
    for (HttpClient.Version version : HttpClient.Version.values()) {
      HttpClient client =
          HttpClient.newBuilder()
              .sslContext(pem.trustingContext())
              .version(version)
              .connectTimeout(Duration.ofSeconds(5))
              .build();
      HttpResponse<String> r = client.send(request("https"), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.version()).isEqualTo(version);
    }
    assertThat(node.buffer().highWaterMark()).isEqualTo(2);
    HttpClient plain =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();
    assertThatThrownBy(() -> plain.send(request("http"), HttpResponse.BodyHandlers.ofString()))
        .isInstanceOf(IOException.class);
    assertThat(node.buffer().highWaterMark()).as("nothing stored from plaintext").isEqualTo(2);
  }

  private HttpRequest request(String scheme) {
    return HttpRequest.newBuilder(
            URI.create(scheme + "://127.0.0.1:" + node.port() + "/v1/streams/clicks/events"))
        .header("Content-Type", "application/json")
        .timeout(Duration.ofSeconds(5))
        .POST(HttpRequest.BodyPublishers.ofString("{\"v\":1}"))
        .build();
  }
}
