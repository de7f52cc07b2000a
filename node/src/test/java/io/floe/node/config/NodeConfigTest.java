package io.floe.node.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import io.floe.node.buffer.BufferConfig;
import io.floe.node.buffer.Durability;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeConfigTest {
  @TempDir Path tmp;

  @Test
  void defaultsAreUsable() {
    NodeConfig c = NodeConfig.load(Settings.from(authOff(Map.of())));
    assertThat(c.limits().deadLetterReadBudgetBytes()).isEqualTo(8L << 20);
    assertThat(c.httpPort()).isEqualTo(8081);
    assertThat(c.partitionId()).isZero();
    assertThat(c.buffer().durability()).isEqualTo(Durability.SYNC);
    assertThat(c.buffer().dir()).isEqualTo(Path.of("data/node-0"));
    assertThat(c.limits().keyField()).isEqualTo("key");
    assertThat(c.limits().maxBodyBytes()).isEqualTo(16L << 20);
  }

  @Test
  void environmentOverridesTheFile() throws Exception {
    Path file = tmp.resolve("node.properties");
    Files.writeString(
        file,
        "http.port=9001\nbuffer.durability=async\nrocksdb.compression=zstd\n"
            + "ingest.max-body-bytes=32MiB\nnode.partition-id=4\n");
    NodeConfig c =
        NodeConfig.load(
            Settings.from(
                authOff(
                    Map.of(
                        "FLOE_CONFIG_FILE",
                        file.toString(),
                        "FLOE_HTTP_PORT",
                        "9002",
                        "FLOE_BUFFER_MAX_BYTES",
                        "2GiB"))));
    assertThat(c.httpPort()).isEqualTo(9002);
    assertThat(c.partitionId()).isEqualTo(4);
    assertThat(c.buffer().durability()).isEqualTo(Durability.ASYNC);
    assertThat(c.buffer().compression()).isEqualTo(BufferConfig.Compression.ZSTD);
    assertThat(c.buffer().maxBytes()).isEqualTo(2L << 30);
    assertThat(c.limits().maxBodyBytes()).isEqualTo(32L << 20);
    assertThat(c.buffer().dir()).isEqualTo(Path.of("data/node-4"));
  }

  @Test
  void badValuesNameTheSetting() {
    assertThatThrownBy(
            () -> NodeConfig.load(Settings.from(authOff(Map.of("FLOE_HTTP_PORT", "eighty")))))
        .isInstanceOf(ConfigException.class)
        .hasMessage("FLOE_HTTP_PORT (http.port) must be an integer in 0..65535, got 'eighty'");
    assertThatThrownBy(
            () ->
                NodeConfig.load(Settings.from(authOff(Map.of("FLOE_BUFFER_DURABILITY", "maybe")))))
        .hasMessage(
            "FLOE_BUFFER_DURABILITY (buffer.durability) must be one of sync|async|none, got 'maybe'");
    assertThatThrownBy(
            () ->
                NodeConfig.load(
                    Settings.from(authOff(Map.of("FLOE_INGEST_MAX_BODY_BYTES", "12 parsecs")))))
        .hasMessageStartingWith(
            "FLOE_INGEST_MAX_BODY_BYTES (ingest.max-body-bytes) must be a byte size");
    assertThatThrownBy(
            () ->
                NodeConfig.load(
                    Settings.from(
                        authOff(
                            Map.of(
                                "FLOE_INGEST_MAX_BODY_BYTES",
                                "64MiB",
                                "FLOE_INGEST_INFLIGHT_MAX_BYTES",
                                "32MiB")))))
        .hasMessageStartingWith(
            "FLOE_INGEST_INFLIGHT_MAX_BYTES (ingest.inflight-max-bytes) must be at least");
    assertThatThrownBy(
            () ->
                NodeConfig.load(
                    Settings.from(
                        authOff(
                            Map.of(
                                "FLOE_ROCKSDB_MAX_WRITE_BUFFER_NUMBER",
                                "8",
                                "FLOE_ROCKSDB_MIN_WRITE_BUFFER_NUMBER_TO_MERGE",
                                "8")))))
        .hasMessageStartingWith(
            "FLOE_ROCKSDB_MIN_WRITE_BUFFER_NUMBER_TO_MERGE "
                + "(rocksdb.min-write-buffer-number-to-merge) must be below rocksdb.max-write-buffer-number (8)");
    assertThatThrownBy(
            () ->
                NodeConfig.load(
                    Settings.from(authOff(Map.of("FLOE_DEAD_LETTER_READ_BUDGET_BYTES", "32KiB")))))
        .hasMessage(
            "FLOE_DEAD_LETTER_READ_BUDGET_BYTES (dead-letter.read-budget-bytes) must be at least"
                + " dead-letter.max-raw-bytes (65536): one dead letter must fit");
    assertThatThrownBy(
            () ->
                NodeConfig.load(
                    Settings.from(
                        authOff(Map.of("FLOE_CONFIG_FILE", "/nonexistent/x.properties")))))
        .hasMessageStartingWith(
            "FLOE_CONFIG_FILE: cannot read configuration file '/nonexistent/x.properties'");
  }

  @Test
  void byteSizes() {
    assertThat(Settings.parseBytes("1048576")).isEqualTo(1L << 20);
    assertThat(Settings.parseBytes("512k")).isEqualTo(512L << 10);
    assertThat(Settings.parseBytes("64 MiB")).isEqualTo(64L << 20);
    assertThat(Settings.parseBytes("2GB")).isEqualTo(2L << 30);
    assertThatThrownBy(() -> Settings.parseBytes("MiB")).isInstanceOf(NumberFormatException.class);
  }

  @Test
  void authenticationIsRequiredUnlessExplicitlyDisabled() {
    assertThatThrownBy(() -> NodeConfig.load(Settings.from(Map.of())))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("auth.tokens-file: authentication is required");
    assertThatThrownBy(() -> NodeConfig.load(Settings.from(Map.of("FLOE_HTTP_AUTH_TOKEN", ""))))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("http.auth-token: the token is empty");
    assertThat(
            NodeConfig.load(Settings.from(Map.of("FLOE_HTTP_AUTH_TOKEN", "s3cret")))
                .auth()
                .enabled())
        .isTrue();
  }

  /** The environment plus FLOE_AUTH_DISABLED=true: these tests are about other settings. */
  @Test
  void commitModeIsDirectUnlessCoordinatedIsAskedForAndAWrongValueNamesTheSetting() {
    assertThat(NodeConfig.load(Settings.from(authOff(Map.of()))).commit().coordinated()).isFalse();
    assertThat(
            NodeConfig.load(Settings.from(authOff(Map.of("FLOE_COMMIT_MODE", "coordinated"))))
                .commit()
                .coordinated())
        .isTrue();
    assertThatThrownBy(
            () -> NodeConfig.load(Settings.from(authOff(Map.of("FLOE_COMMIT_MODE", "central")))))
        .isInstanceOf(ConfigException.class)
        .hasMessage(
            "FLOE_COMMIT_MODE (commit.mode) must be one of direct|coordinated, got 'central'");
    assertThatThrownBy(
            () ->
                NodeConfig.load(
                    Settings.from(
                        authOff(Map.of("FLOE_NODE_ADVERTISE_ADDRESS", "http://10.0.0.1:8081")))))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("FLOE_NODE_ADVERTISE_ADDRESS (node.advertise-address)");
  }

  private static Map<String, String> authOff(Map<String, String> env) {
    Map<String, String> all = new HashMap<>(env);
    all.put("FLOE_AUTH_DISABLED", "true");
    return all;
  }
}
