package io.floe.it.cluster;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Headless Chromium driven through chromedriver over the W3C WebDriver HTTP protocol, with the
 * JDK's HTTP client: a session, navigation, typing, clicking, scripts and screenshots, which is all
 * a console test needs. Debian's {@code chromium} and {@code chromium-driver} packages provide both
 * programs; {@link #missing()} says when they are not installed.
 */
final class Chromium implements AutoCloseable {
  /** The key under which WebDriver names an element. */
  private static final String ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

  private final Process driver;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final String base;
  private final String session;

  /** Why no browser can run here (a line naming what to install), or null when one can. */
  static String missing() {
    if (binary("chromium") == null) {
      return "chromium is not installed (apt-get install chromium chromium-driver; scripts/test"
          + " does)";
    }
    if (binary("chromedriver") == null) {
      return "chromedriver is not installed (apt-get install chromium-driver; scripts/test does)";
    }
    return null;
  }

  private static Path binary(String name) {
    for (String dir : List.of("/usr/bin", "/usr/local/bin", "/usr/lib/chromium")) {
      Path p = Path.of(dir, name);
      if (Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  Chromium(int port, int width, int height, Path log) throws Exception {
    driver =
        new ProcessBuilder(binary("chromedriver").toString(), "--port=" + port)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    base = "http://127.0.0.1:" + port;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      try {
        if (call("GET", "/status", null).getJsonObject("value").getBoolean("ready", false)) {
          break;
        }
      } catch (IOException notYet) {
        // chromedriver is still starting
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("chromedriver did not start; see " + log);
      }
      Thread.sleep(100);
    }
    JsonObject options =
        new JsonObject()
            .put("binary", binary("chromium").toString())
            .put(
                "args",
                new JsonArray()
                    .add("--headless=new")
                    .add("--no-sandbox")
                    .add("--disable-gpu")
                    .add("--disable-dev-shm-usage")
                    .add("--disable-extensions")
                    .add("--window-size=" + width + "," + height));
    JsonObject caps =
        new JsonObject()
            .put(
                "capabilities",
                new JsonObject()
                    .put(
                        "alwaysMatch",
                        new JsonObject()
                            .put("browserName", "chrome")
                            .put("goog:chromeOptions", options)));
    session = call("POST", "/session", caps).getJsonObject("value").getString("sessionId");
  }

  private JsonObject call(String method, String path, JsonObject body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body.encode()));
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    JsonObject answer = new JsonObject(r.body());
    if (r.statusCode() != 200) {
      throw new IllegalStateException(
          method + " " + path + " -> " + r.statusCode() + " " + r.body());
    }
    return answer;
  }

  private Object value(String method, String path, JsonObject body) throws Exception {
    return call(method, "/session/" + session + path, body).getValue("value");
  }

  void open(String url) throws Exception {
    value("POST", "/url", new JsonObject().put("url", url));
  }

  String url() throws Exception {
    return (String) value("GET", "/url", null);
  }

  /** The element {@code css} selects, or null. */
  String find(String css) throws Exception {
    JsonArray found =
        (JsonArray)
            value(
                "POST",
                "/elements",
                new JsonObject().put("using", "css selector").put("value", css));
    return found.isEmpty() ? null : found.getJsonObject(0).getString(ELEMENT);
  }

  void type(String css, String text) throws Exception {
    value("POST", "/element/" + require(css) + "/value", new JsonObject().put("text", text));
  }

  void click(String css) throws Exception {
    value("POST", "/element/" + require(css) + "/click", new JsonObject());
  }

  private String require(String css) throws Exception {
    String e = find(css);
    if (e == null) {
      throw new IllegalStateException("no element " + css);
    }
    return e;
  }

  /** Runs {@code script} (a function body; {@code return} gives the value) in the page. */
  Object script(String script) throws Exception {
    return value(
        "POST",
        "/execute/sync",
        new JsonObject().put("script", script).put("args", new JsonArray()));
  }

  void resize(int width, int height) throws Exception {
    value("POST", "/window/rect", new JsonObject().put("width", width).put("height", height));
  }

  /** Saves a PNG of the top of the page (the viewport, scrolled up) to {@code file}. */
  void screenshot(Path file) throws Exception {
    Files.createDirectories(file.getParent());
    script("window.scrollTo(0, 0); return null;");
    Files.write(file, Base64.getDecoder().decode((String) value("GET", "/screenshot", null)));
  }

  @Override
  public void close() throws Exception {
    try {
      call("DELETE", "/session/" + session, null);
    } finally {
      driver.destroy();
      if (!driver.waitFor(10, TimeUnit.SECONDS)) {
        driver.destroyForcibly();
      }
    }
  }
}
