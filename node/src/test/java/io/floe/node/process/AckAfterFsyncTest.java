package io.floe.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.net.FreePort;
import io.floe.node.NodeMain;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * With {@code buffer.durability=sync} the answer to a write leaves the node only after the WAL was
 * fsynced. A SIGKILL test cannot tell (the page cache survives it), so this one watches the node's
 * system calls with strace: the request's read, then an fdatasync/fsync, then the response's write.
 * The same check on {@code async} must find no sync in between: the test can tell the difference.
 * Skipped with one loud line where strace is missing or may not trace.
 */
class AckAfterFsyncTest {
  @TempDir Path tmp;

  /**
   * Whether a sync completed between the request's read and the "200" write, per the node's
   * syscalls.
   */
  private boolean syncBeforeAnswer(String durability) throws Exception {
    int port = FreePort.pick();
    Path trace = tmp.resolve(durability + ".strace");
    ProcessBuilder pb =
        new ProcessBuilder(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m",
            "-cp",
            System.getProperty("java.class.path"),
            NodeMain.class.getName());
    pb.environment().keySet().removeIf(k -> k.startsWith("FLOE_"));
    pb.environment()
        .putAll(
            Map.of(
                "FLOE_HTTP_PORT",
                Integer.toString(port),
                "FLOE_HTTP_HOST",
                "127.0.0.1",
                "FLOE_BUFFER_DIR",
                tmp.resolve(durability).toString(),
                "FLOE_FLUSH_ENABLED",
                "false",
                "FLOE_BUFFER_DURABILITY",
                durability,
                "FLOE_HTTP_EVENT_LOOPS",
                "1",
                "FLOE_LOG_LEVEL",
                "WARN",
                "FLOE_AUTH_DISABLED",
                "true"));
    pb.redirectErrorStream(true).redirectOutput(tmp.resolve(durability + ".log").toFile());
    Process node = pb.start();
    Process strace = null;
    try {
      HttpClient http =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(Duration.ofSeconds(1))
              .build();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (true) {
        try {
          if (http.send(
                      HttpRequest.newBuilder(
                              URI.create("http://127.0.0.1:" + port + "/health/ready"))
                          .build(),
                      HttpResponse.BodyHandlers.discarding())
                  .statusCode()
              == 200) {
            break;
          }
        } catch (IOException notYet) {
          // still starting
        }
        assertThat(node.isAlive() && System.nanoTime() < deadline).as("node starts").isTrue();
        Thread.sleep(100);
      }
      // attach to the running node (all its threads) only now: tracing its start-up would be slow
      strace =
          new ProcessBuilder(
                  "strace",
                  "-f",
                  "-qq",
                  "-s",
                  "32",
                  "-o",
                  trace.toString(),
                  "-e",
                  "trace=read,write,writev,fdatasync,fsync",
                  "-p",
                  Long.toString(node.pid()))
              .redirectErrorStream(true)
              .redirectOutput(tmp.resolve(durability + ".strace.log").toFile())
              .start();
      Thread.sleep(1500);
      if (!strace.isAlive()) {
        System.err.println(
            "AckAfterFsyncTest SKIPPED: strace cannot attach here (ptrace not allowed?): "
                + Files.readString(tmp.resolve(durability + ".strace.log")).strip());
        Assumptions.abort("strace cannot attach");
      }
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + port + "/v1/streams/traced/events"))
                  .header("Content-Type", "application/x-ndjson")
                  .POST(HttpRequest.BodyPublishers.ofString("{\"traced\":true}\n"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      Thread.sleep(300);
    } finally {
      if (strace != null) {
        strace.destroy(); // detaches and writes out what it has
        strace.waitFor(30, TimeUnit.SECONDS);
      }
      node.destroy();
      node.waitFor(30, TimeUnit.SECONDS);
    }
    List<String> lines = Files.readAllLines(trace);
    int request = -1;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).contains("POST /v1/streams/traced/events")) {
        request = i;
        break;
      }
    }
    assertThat(request).as("the request's read is in the trace").isNotNegative();
    boolean synced = false;
    for (int i = request + 1; i < lines.size(); i++) {
      String l = lines.get(i);
      if (l.contains("HTTP/1.1 200")) {
        return synced;
      }
      boolean syncCall =
          l.contains("fdatasync(")
              || l.contains("fsync(")
              || l.contains("fdatasync resumed")
              || l.contains("fsync resumed");
      if (syncCall && l.contains("= 0") && !l.contains("unfinished")) {
        synced = true;
      }
    }
    throw new AssertionError("the response's write is not in the trace after the request");
  }

  @Test
  void theAnswerIsWrittenOnlyAfterTheWalIsSynced() throws Exception {
    boolean strace;
    try {
      strace = new ProcessBuilder("strace", "-V").start().waitFor() == 0;
    } catch (IOException e) {
      strace = false;
    }
    if (!strace) {
      System.err.println(
          "AckAfterFsyncTest SKIPPED: strace is not installed (scripts/test installs it)");
      Assumptions.abort("no strace");
    }
    assertThat(syncBeforeAnswer("sync"))
        .as("sync: fsync between the request and its answer")
        .isTrue();
    assertThat(syncBeforeAnswer("async"))
        .as("async: no fsync before the answer (the check can fail)")
        .isFalse();
  }
}
