package io.floe.it.cluster;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One cluster member (a Java main, or any command) as its own OS process that can be killed and
 * restarted.
 */
final class JavaProcess implements AutoCloseable {
  final String name;
  final int port;
  private final List<String> command;
  private final Map<String, String> env;
  private final Path log;
  private Process process;

  /** Where this start's output begins in the log (earlier starts append before it). */
  private long logStart;

  private JavaProcess(
      String name, int port, List<String> command, Map<String, String> env, Path log) {
    this.name = name;
    this.port = port;
    this.command = command;
    this.env = env;
    this.log = log;
  }

  static JavaProcess java(
      String name,
      int port,
      String mainClass,
      List<String> args,
      Map<String, String> env,
      Path logDir,
      String heap) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx" + heap);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass);
    cmd.addAll(args);
    return new JavaProcess(name, port, cmd, env, logDir.resolve(name + ".log"));
  }

  static JavaProcess command(String name, int port, List<String> cmd, Path logDir) {
    return new JavaProcess(name, port, cmd, Map.of(), logDir.resolve(name + ".log"));
  }

  JavaProcess start() throws IOException {
    return start(List.of());
  }

  /**
   * Starts the process with {@code jvmOptions} (a Java main's {@code -D...} flags, for this start
   * only) before its class path.
   */
  JavaProcess start(List<String> jvmOptions) throws IOException {
    List<String> cmd = new ArrayList<>(command);
    cmd.addAll(1, jvmOptions);
    logStart = Files.exists(log) ? Files.size(log) : 0;
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("FLOE_"));
    pb.environment().putAll(env);
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    process = pb.start();
    return this;
  }

  /** Waits until {@code path} on this process's port answers 200. */
  JavaProcess awaitHttp(String path, Duration limit) throws Exception {
    HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            name + " exited with " + process.exitValue() + "; see " + log);
      }
      try {
        if (client
                .send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).build(),
                    HttpResponse.BodyHandlers.discarding())
                .statusCode()
            == 200) {
          return this;
        }
      } catch (IOException notYet) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException(
        name + " not answering " + path + " within " + limit + "; see " + log);
  }

  /** Waits until this start's output contains {@code text}. */
  JavaProcess awaitLog(String text, Duration limit) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      byte[] all = Files.readAllBytes(log);
      int from = (int) Math.min(logStart, all.length);
      if (new String(all, from, all.length - from, StandardCharsets.UTF_8).contains(text)) {
        return this;
      }
      if (!process.isAlive()) {
        throw new IllegalStateException(
            name + " exited with " + process.exitValue() + "; see " + log);
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException(name + " did not log '" + text + "' within " + limit);
  }

  /** The OS process id of the running process. */
  long pid() {
    return process.pid();
  }

  /** SIGSTOP: the process stops running, keeping its sockets (a long GC pause, a frozen VM). */
  void pause() throws Exception {
    signal("-STOP");
  }

  /** SIGCONT: a paused process runs on. */
  void resume() throws Exception {
    signal("-CONT");
  }

  private void signal(String signal) throws Exception {
    Process kill = new ProcessBuilder("kill", signal, Long.toString(pid())).inheritIO().start();
    if (kill.waitFor() != 0) {
      throw new IllegalStateException("kill " + signal + " " + pid() + " failed");
    }
  }

  /** SIGKILL. */
  void kill() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        kill();
      }
    }
  }
}
