package io.floe.node.process;

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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** A node running as its own JVM process, for crash and shutdown tests. */
public final class NodeProcess implements AutoCloseable {
  public final Process process;
  public final int port;
  public final Path log;

  private NodeProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /** Starts a node with the given FLOE_* environment; does not wait for it. */
  public static NodeProcess launch(Map<String, String> env, Path log) throws IOException {
    return launch(env, List.of(), log);
  }

  /** Starts a node with the given FLOE_* environment and JVM options; does not wait for it. */
  public static NodeProcess launch(Map<String, String> env, List<String> jvmOptions, Path log)
      throws IOException {
    int port = Integer.parseInt(env.getOrDefault("FLOE_HTTP_PORT", "0"));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>(List.of(java, "-Xmx512m"));
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), NodeMain.class.getName()));
    ProcessBuilder pb = new ProcessBuilder(command);
    Map<String, String> e = pb.environment();
    e.keySet().removeIf(k -> k.startsWith("FLOE_"));
    e.putAll(env);
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return new NodeProcess(pb.start(), port, log);
  }

  /** Starts a node on a free port and waits until it answers /health/ready. */
  public static NodeProcess start(Path dataDir, Path log, Map<String, String> extra)
      throws Exception {
    return start(dataDir, log, extra, List.of());
  }

  /** Starts a node on a free port with JVM options and waits until it answers /health/ready. */
  public static NodeProcess start(
      Path dataDir, Path log, Map<String, String> extra, List<String> jvmOptions) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("FLOE_HTTP_PORT", Integer.toString(FreePort.pick()));
    env.put("FLOE_HTTP_HOST", "127.0.0.1");
    env.put("FLOE_BUFFER_DIR", dataDir.toString());
    env.put("FLOE_NODE_PARTITION_ID", "5");
    env.put("FLOE_HTTP_EVENT_LOOPS", "2");
    env.put("FLOE_FLUSH_ENABLED", "false");
    if (!extra.containsKey("FLOE_HTTP_AUTH_TOKEN") && !extra.containsKey("FLOE_AUTH_TOKENS_FILE")) {
      env.put("FLOE_AUTH_DISABLED", "true");
    }
    env.putAll(extra);
    NodeProcess p = launch(env, jvmOptions, log);
    p.awaitReady();
    return p;
  }

  public void awaitReady() throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("node exited with " + process.exitValue() + "; see " + log);
      }
      try {
        HttpResponse<Void> r =
            client.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
                    .build(),
                HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("node not ready within 60 s; see " + log);
  }

  /** Waits until the log contains {@code text} (e.g. a fault point's marker). */
  public void awaitLog(String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (Files.exists(log) && Files.readString(log).contains(text)) {
        return;
      }
      if (!process.isAlive()) {
        throw new IllegalStateException("node exited before logging '" + text + "'; see " + log);
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("'" + text + "' not logged within 60 s; see " + log);
  }

  /** SIGKILL: no shutdown hook, no flush, nothing but what already reached the disk. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM: the orderly shutdown path. Returns the exit code. */
  public int terminate() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(90, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IllegalStateException("node did not stop within 60 s of SIGTERM");
    }
    return process.exitValue();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
