package io.floe.node.buffer;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.node.Node;
import io.floe.node.testing.BufferOnlyNode;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The WAL's volume fills up: the write that fails is answered 503 {@code storage_error} saying that
 * its outcome is unknown (RocksDB may have written the record), never "nothing was stored". Runs on
 * a real full file system: a 4 MiB tmpfs, which needs root; skipped with one loud line elsewhere.
 */
class DiskFullTest {
  @TempDir Path dir;

  private static boolean run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
  }

  @Test
  void aWriteThatFailsOnAFullDiskDoesNotClaimNothingWasStored() throws Exception {
    Path wal = dir.resolve("wal");
    Files.createDirectories(wal);
    if (!run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", wal.toString())) {
      System.err.println(
          "DiskFullTest SKIPPED: cannot mount a small tmpfs here (needs root); the full-disk path is untested");
      Assumptions.abort("cannot mount a tmpfs");
    }
    try {
      HttpClient http = HttpClient.newHttpClient();
      String body = ("{\"pad\":\"" + "x".repeat(1000) + "\"}\n").repeat(256);
      try (Node node =
          BufferOnlyNode.start(
              dir.resolve("rocks"),
              Map.of("node.partition-id", "4", "buffer.wal-dir", wal.toString()))) {
        HttpResponse<String> r = null;
        int accepted = 0;
        for (int i = 0; i < 100; i++) {
          r =
              http.send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + node.port() + "/v1/streams/s/events"))
                      .header("Content-Type", "application/x-ndjson")
                      .POST(HttpRequest.BodyPublishers.ofString(body))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() != 200) {
            break;
          }
          accepted++;
        }
        assertThat(accepted).as("some writes fit before the volume is full").isPositive();
        assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
        JsonObject error = new JsonObject(r.body());
        assertThat(error.getString("error")).isEqualTo("storage_error");
        assertThat(error.getString("detail"))
            .contains("may or may not have been stored")
            .doesNotContain("nothing was stored");
        assertThat(r.headers().firstValue("Retry-After")).isPresent();

        HttpResponse<String> health =
            http.send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + node.port() + "/health/ready"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).as("routers should send elsewhere").isEqualTo(503);
        assertThat(new JsonObject(health.body()).getString("reason")).isEqualTo("storage_failing");

        // space comes back: the node takes writes again without a restart
        assertThat(run("mount", "-o", "remount,size=64m", wal.toString())).isTrue();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        HttpResponse<String> again = null;
        while (System.nanoTime() < deadline) {
          again =
              http.send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + node.port() + "/v1/streams/s/events"))
                      .header("Content-Type", "application/x-ndjson")
                      .POST(HttpRequest.BodyPublishers.ofString("{\"n\":1}\n"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          if (again.statusCode() == 200) {
            break;
          }
          Thread.sleep(250);
        }
        assertThat(again.statusCode())
            .as("after the disk has room again: %s", again.body())
            .isEqualTo(200);
        assertThat(
                http.send(
                        HttpRequest.newBuilder(
                                URI.create("http://127.0.0.1:" + node.port() + "/health/ready"))
                            .build(),
                        HttpResponse.BodyHandlers.ofString())
                    .statusCode())
            .isEqualTo(200);
      }
    } finally {
      run("umount", "-l", wal.toString());
    }
  }
}
