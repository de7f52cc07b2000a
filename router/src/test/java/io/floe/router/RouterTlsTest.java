package io.floe.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import io.floe.common.testing.Certificates;
import io.floe.common.testing.Certificates.Pem;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * TLS from producers to the router (router.tls.*) and from the router to the nodes
 * (router.node-tls-trust-file).
 */
class RouterTlsTest {
  @TempDir Path dir;
  private final Vertx vertx = Vertx.vertx();
  private Router router;

  @AfterEach
  void stop() throws Exception {
    if (router != null) {
      router.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /** A node stand-in that speaks only TLS. */
  private HttpServer tlsNode(Pem pem, AtomicInteger received) throws Exception {
    return vertx
        .createHttpServer(
            new HttpServerOptions()
                .setHost("127.0.0.1")
                .setPort(0)
                .setSsl(true)
                .setKeyCertOptions(
                    new PemKeyCertOptions()
                        .setCertPath(pem.cert().toString())
                        .setKeyPath(pem.key().toString())))
        .requestHandler(
            req -> {
              if (req.path().equals("/health/ready")) {
                req.response()
                    .end(new JsonObject().put("status", "ready").put("partition_id", 0).encode());
              } else {
                req.body()
                    .onSuccess(
                        b -> {
                          received.incrementAndGet();
                          req.response()
                              .putHeader("Content-Type", "application/json")
                              .end(
                                  new JsonObject()
                                      .put("partition_id", 0)
                                      .put("events", 1)
                                      .encode());
                        });
              }
            })
        .listen()
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  private Router start(Pem routerPem, HttpServer node, Pem nodeTrust) throws Exception {
    return start(routerPem, node, nodeTrust == null ? null : nodeTrust.cert(), Map.of());
  }

  private Router start(Pem routerPem, HttpServer node, Path nodeTrust, Map<String, String> extra)
      throws Exception {
    Map<String, String> s =
        new HashMap<>(
            Map.of(
                "router.host",
                "127.0.0.1",
                "router.port",
                "0",
                "router.nodes",
                "127.0.0.1:" + node.actualPort(),
                "router.health-interval-seconds",
                "0.1",
                "router.healthy-after",
                "1",
                "router.event-loops",
                "1",
                "auth.disabled",
                "true",
                "router.tls.cert-file",
                routerPem.cert().toString(),
                "router.tls.key-file",
                routerPem.key().toString()));
    if (nodeTrust != null) {
      s.put("router.node-tls-trust-file", nodeTrust.toString());
    }
    // the peer counts every request it gets: no console sampling (ClusterEndpointTest has it)
    s.put("router.console-sample-seconds", "0");
    s.putAll(extra);
    return Router.start(RouterConfig.load(Settings.of(s)));
  }

  private HttpResponse<String> send(HttpClient client, String path, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + router.port() + path))
            .timeout(Duration.ofSeconds(5));
    return client.send(
        body == null
            ? b.build()
            : b.header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void forwardsOverTlsToNodesItTrusts() throws Exception {
    Pem routerPem = Certificates.selfSigned(dir, "router");
    Pem nodePem = Certificates.selfSigned(dir, "node");
    AtomicInteger received = new AtomicInteger();
    router = start(routerPem, tlsNode(nodePem, received), nodePem);
    HttpClient client = HttpClient.newBuilder().sslContext(routerPem.trustingContext()).build();
    awaitReady(client);
    HttpResponse<String> r = send(client, "/v1/streams/clicks/events", "{\"v\":1}");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.version()).isEqualTo(HttpClient.Version.HTTP_2);
    assertThat(received.get()).isEqualTo(1);
  }

  @Test
  void aNodeWhoseCertificateIsNotTrustedIsNeverUsed() throws Exception {
    Pem routerPem = Certificates.selfSigned(dir, "router");
    Pem nodePem = Certificates.selfSigned(dir, "node");
    Pem otherPem = Certificates.selfSigned(dir, "other");
    AtomicInteger received = new AtomicInteger();
    router = start(routerPem, tlsNode(nodePem, received), otherPem);
    HttpClient client = HttpClient.newBuilder().sslContext(routerPem.trustingContext()).build();
    Thread.sleep(1_000);
    assertThat(send(client, "/health/ready", null).statusCode()).isEqualTo(503);
    assertThat(send(client, "/v1/streams/clicks/events", "{\"v\":1}").statusCode()).isEqualTo(503);
    assertThat(received.get()).isZero();
  }

  @Test
  void aNodeAddedToTheTrustFileIsUsedWithoutARestart() throws Exception {
    Pem routerPem = Certificates.selfSigned(dir, "router");
    Pem nodePem = Certificates.selfSigned(dir, "node");
    Pem otherPem = Certificates.selfSigned(dir, "other");
    Path trust = dir.resolve("nodes-trust.pem");
    Files.copy(otherPem.cert(), trust);
    AtomicInteger received = new AtomicInteger();
    HttpServer node = tlsNode(nodePem, received);
    router = start(routerPem, node, trust, Map.of("router.node-tls-trust-reload-seconds", "0.2"));
    HttpClient client = HttpClient.newBuilder().sslContext(routerPem.trustingContext()).build();
    Thread.sleep(700);
    assertThat(send(client, "/health/ready", null).statusCode())
        .as("the node is not trusted yet")
        .isEqualTo(503);

    // a broken file is refused and the previous certificates stay trusted
    Path tmp = dir.resolve("nodes-trust.tmp");
    Files.writeString(tmp, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
    Files.move(tmp, trust, StandardCopyOption.REPLACE_EXISTING);
    Thread.sleep(700);
    assertThat(send(client, "/health/ready", null).statusCode()).isEqualTo(503);

    Files.writeString(tmp, Files.readString(otherPem.cert()) + Files.readString(nodePem.cert()));
    Files.move(tmp, trust, StandardCopyOption.REPLACE_EXISTING);
    awaitReady(client);
    assertThat(send(client, "/v1/streams/clicks/events", "{\"v\":1}").statusCode()).isEqualTo(200);
    assertThat(received.get()).isEqualTo(1);
  }

  @Test
  void anUnusableTrustFileStopsStartUpNamingTheSetting() throws Exception {
    Path bad = Files.writeString(dir.resolve("bad.pem"), "no certificate here");
    assertThatThrownBy(
            () ->
                RouterConfig.load(
                    Settings.of(
                        Map.of(
                            "router.nodes",
                            "127.0.0.1:1",
                            "auth.disabled",
                            "true",
                            "router.node-tls-trust-file",
                            bad.toString()))))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("router.node-tls-trust-file");
  }

  private void awaitReady(HttpClient client) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (send(client, "/health/ready", null).statusCode() != 200) {
      assertThat(System.nanoTime()).as("the router sees the TLS node healthy").isLessThan(deadline);
      Thread.sleep(100);
    }
  }
}
