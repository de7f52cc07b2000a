package io.floe.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.local.ClusterStatus;
import io.floe.common.net.FreePort;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator console in a real browser (headless Chromium through chromedriver) on a real local
 * cluster: S3-compatible server, catalog service, three node processes and a router. A wrong token
 * is refused; the right one shows three ready nodes; numbers move under load; a killed node turns
 * not ready and comes back when restarted; the token never shows in the address bar, the page, an
 * asset or an API answer; the page fits a phone's width. Screenshots go to {@code
 * target/console-screenshots/} (build artefacts). Skips, with one line saying what to install,
 * where no browser is installed. {@code scripts/floe status} reads the same cluster.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserTest {
  private static final Path SHOTS = Path.of("target", "console-screenshots");
  private final HttpClient http = HttpClient.newHttpClient();
  private LocalCluster cluster;
  private String router;

  @BeforeAll
  void startCluster(@TempDir Path dir) throws Exception {
    cluster = new LocalCluster(dir, 3, 1, Map.of("FLOE_ROUTER_CONSOLE_SAMPLE_SECONDS", "1"));
    try {
      cluster.start();
    } catch (Exception e) {
      keepLogs(dir);
      throw e;
    }
    router = "http://127.0.0.1:" + cluster.routers.get(0).port;
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
      keepLogs(cluster.dir);
    }
  }

  /** The cluster's logs, kept beside the screenshots as build artefacts. */
  private static void keepLogs(Path dir) throws IOException {
    Path to = Files.createDirectories(SHOTS.resolve("logs"));
    try (Stream<Path> logs = Files.list(dir.resolve("logs"))) {
      for (Path log : logs.toList()) {
        Files.copy(log, to.resolve(log.getFileName()), StandardCopyOption.REPLACE_EXISTING);
      }
    }
  }

  /** {@code scripts/floe status}'s exit code, its output in {@code out}. */
  private int status(StringBuilder out, String token) {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    ByteArrayOutputStream errors = new ByteArrayOutputStream();
    int code =
        new ClusterStatus(
                new PrintStream(text, true, StandardCharsets.UTF_8),
                new PrintStream(errors, true, StandardCharsets.UTF_8))
            .run(new String[] {"--router", router, "--token", token});
    out.append(text.toString(StandardCharsets.UTF_8))
        .append(errors.toString(StandardCharsets.UTF_8));
    return code;
  }

  @Test
  @Order(1)
  void theStatusCommandSeesAHealthyClusterAndRefusesAWrongToken() throws Exception {
    StringBuilder out = new StringBuilder();
    await(
        "status sees three ready nodes",
        () -> {
          out.setLength(0);
          return status(out, LocalCluster.OPERATOR_TOKEN) == 0 && out.toString().contains("3/3");
        });
    assertThat(out.toString()).contains("floe cluster: OK").contains("attention: nothing");
    assertThat(out.toString().lines().filter(l -> l.startsWith("127.0.0.1:"))).hasSize(3);
    StringBuilder refused = new StringBuilder();
    assertThat(status(refused, "not-a-token")).isEqualTo(3);
    assertThat(refused.toString()).contains("401").doesNotContain("not-a-token");
  }

  @Test
  @Order(2)
  void anOperatorWatchesTheClusterThroughANodeFailure(@TempDir Path dir) throws Exception {
    String missing = Chromium.missing();
    if (missing != null) {
      System.err.println("ConsoleBrowserTest SKIPPED: " + missing);
    }
    Assumptions.assumeTrue(missing == null, missing);
    try (Chromium browser =
        new Chromium(FreePort.pick(), 1280, 800, dir.resolve("chromedriver.log"))) {
      List<String> secrets =
          List.of(
              LocalCluster.OPERATOR_TOKEN, LocalCluster.PRODUCER_TOKEN, LocalCluster.ROUTER_TOKEN);

      // a wrong token is refused, and the form says so
      browser.open(router + "/console/");
      await(
          "the sign-in form has the focus",
          () ->
              "token"
                  .equals(
                      browser.script(
                          "return document.activeElement && document.activeElement.id")));
      browser.type("#token", "not-a-token");
      browser.click("#login-form button[type=submit]");
      await("the wrong token is refused", () -> text(browser, "#login-error").contains("refused"));
      assertThat(visible(browser, "#view")).isFalse();

      // the right token from the URL fragment: it leaves the address bar at once
      browser.open(router + "/console/#token=" + LocalCluster.OPERATOR_TOKEN);
      await("three ready nodes", () -> readyRows(browser) == 3);
      assertThat(browser.url())
          .doesNotContain(LocalCluster.OPERATOR_TOKEN)
          .doesNotContain("token=");
      await("the catalog's table health", () -> text(browser, "#table").contains("reachable"));

      // live numbers under load
      AckingWriter w = new AckingWriter(router, 4, 50, "console");
      w.start();
      try {
        await(
            "events/s shown for the load",
            () ->
                Double.parseDouble(
                        String.valueOf(
                            browser.script(
                                "var s = 0; document.querySelectorAll('#nodes tbody tr')"
                                    + ".forEach(function (r) { s += parseFloat("
                                    + "r.cells[5].textContent.replace(/[^0-9.]/g, '')) || 0; });"
                                    + " return s;")))
                    > 0);
        await("the stream's row", () -> browser.find("#streams tr[data-stream]") != null);
        String before = text(browser, "#streams tbody");
        await("the stream's numbers move", () -> !text(browser, "#streams tbody").equals(before));
        browser.screenshot(SHOTS.resolve("console-1280x800.png"));

        // a node killed: not ready, and first in what needs attention
        JavaProcess victim = cluster.nodes.get(1);
        String victimId = "127.0.0.1:" + victim.port;
        victim.kill();
        await(
            "the killed node turns not ready",
            () ->
                "false"
                    .equals(
                        browser.script(
                            "var r = document.querySelector('#nodes tr[data-node=\""
                                + victimId
                                + "\"]'); return r && r.getAttribute('data-ready');")));
        assertThat(text(browser, "#attention")).contains(victimId);
        assertThat(text(browser, "#summary")).contains("2/3");
        browser.screenshot(SHOTS.resolve("console-node-down.png"));
        StringBuilder down = new StringBuilder();
        assertThat(status(down, LocalCluster.OPERATOR_TOKEN)).as("%s", down).isEqualTo(1);
        assertThat(down.toString()).contains("CRITICAL").contains(victimId).contains("NOT READY");
        victim.start().awaitHttp("/health/ready", Duration.ofSeconds(240));
        await("the node is ready again", () -> readyRows(browser) == 3);
      } finally {
        w.stop();
      }

      // nothing the browser holds or the router serves carries a token
      String page = String.valueOf(browser.script("return document.documentElement.outerHTML"));
      for (String path :
          List.of("/console/", "/console/console.js", "/console/console.css", "/v1/cluster")) {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create(router + path))
                    .header("Authorization", "Bearer " + LocalCluster.OPERATOR_TOKEN)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path).isEqualTo(200);
        for (String secret : secrets) {
          assertThat(r.body()).as(path).doesNotContain(secret);
          assertThat(r.headers().map().toString()).as(path).doesNotContain(secret);
        }
      }
      for (String secret : secrets) {
        assertThat(page).doesNotContain(secret);
      }

      // a phone's width: everything stacks, nothing but the tables' own boxes scrolls sideways
      browser.resize(390, 844);
      await(
          "the page fits a phone's width",
          () ->
              Boolean.TRUE.equals(
                  browser.script(
                      "return document.documentElement.scrollWidth <= window.innerWidth + 1")));
      browser.screenshot(SHOTS.resolve("console-phone.png"));

      // signing out forgets the token
      browser.resize(1280, 800);
      browser.click("#logout");
      await("signed out", () -> visible(browser, "#login"));
      assertThat(((Number) browser.script("return sessionStorage.length")).intValue()).isZero();
    }
  }

  private static int readyRows(Chromium browser) throws Exception {
    return ((Number)
            browser.script(
                "return document.querySelectorAll('#nodes tr[data-ready=\"true\"]').length"))
        .intValue();
  }

  private static String text(Chromium browser, String css) throws Exception {
    Object t =
        browser.script(
            "var e = document.querySelector('" + css + "'); return e ? e.textContent : '';");
    return String.valueOf(t);
  }

  private static boolean visible(Chromium browser, String css) throws Exception {
    return Boolean.TRUE.equals(
        browser.script("var e = document.querySelector('" + css + "'); return !!e && !e.hidden;"));
  }

  private static void await(String what, Callable<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Boolean.TRUE.equals(condition.call())) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the console never showed: " + what);
      }
      Thread.sleep(200);
    }
  }

  static {
    try {
      Files.createDirectories(SHOTS);
    } catch (Exception e) {
      throw new ExceptionInInitializerError(e);
    }
  }
}
