package io.floe.common.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import io.vertx.core.MultiMap;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthTest {
  @TempDir Path dir;

  private Auth withTokens(String... lines) throws Exception {
    Path file = Files.write(dir.resolve("tokens"), List.of(lines));
    return Auth.load(
        Settings.of(Map.of("auth.tokens-file", file.toString())),
        "http.auth-token",
        Set.of(Scope.INGEST));
  }

  @Test
  void scopesAndStreamPatternsDecideWhatATokenMayDo() throws Exception {
    Auth auth =
        withTokens(
            "# producers and operators",
            TokenStore.line("clicks", "ingest:clicks,ingest:clicks-*", "t-clicks"),
            TokenStore.line("ops", "read,admin", "t-ops") + "   # the on-call");
    Principal clicks = auth.require("Bearer t-clicks", Scope.INGEST);
    assertThat(clicks.name()).isEqualTo("clicks");
    assertThat(clicks.mayIngest("clicks")).isTrue();
    assertThat(clicks.mayIngest("clicks-eu")).isTrue();
    assertThat(clicks.mayIngest("orders")).isFalse();
    assertThat(clicks.mayIngest("clicksx")).isFalse();
    assertThat(auth.require("bearer t-ops", Scope.ADMIN).name()).isEqualTo("ops");
    assertThat(auth.authenticate("Bearer t-ops").mayIngest("clicks")).isFalse();

    assertThatThrownBy(() -> auth.require("Bearer t-clicks", Scope.ADMIN))
        .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.status()).isEqualTo(403))
        .hasMessageContaining("'clicks' lacks the scope admin")
        .hasMessageNotContaining("t-clicks");
    for (String bad :
        new String[] {
          null,
          "",
          "Basic dXNlcjpwdw==",
          "Bearer ",
          "Bearer t-click",
          "Bearer t-clicks2",
          "Bearer " + "x".repeat(5000),
          "t-clicks"
        }) {
      assertThatThrownBy(() -> auth.authenticate(bad))
          .as(String.valueOf(bad))
          .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.status()).isEqualTo(401));
    }
  }

  @Test
  void aRequestWithTwoAuthorizationHeadersIsRefusedWhateverTheyHold() throws Exception {
    Auth auth =
        withTokens(TokenStore.line("a", "ingest", "t-a"), TokenStore.line("b", "admin", "t-b"));
    MultiMap two =
        MultiMap.caseInsensitiveMultiMap()
            .add("Authorization", "Bearer t-a")
            .add("authorization", "Bearer t-b");
    assertThatThrownBy(() -> auth.authenticate(two))
        .isInstanceOfSatisfying(AuthException.class, e -> assertThat(e.status()).isEqualTo(401))
        .hasMessageContaining("more than one Authorization header");
    assertThat(
            auth.authenticate(MultiMap.caseInsensitiveMultiMap().add("authorization", "Bearer t-b"))
                .name())
        .isEqualTo("b");
  }

  @Test
  void theFileIsReReadWhenItChangesAndABrokenEditKeepsThePreviousTokens() throws Exception {
    Auth auth = withTokens(TokenStore.line("a", "ingest", "t-a"));
    assertThat(auth.authenticate("Bearer t-a").name()).isEqualTo("a");
    Path file = dir.resolve("tokens");
    Files.write(file, List.of(TokenStore.line("b", "ingest", "t-b")));
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
    Thread.sleep(1_100);
    assertThat(auth.authenticate("Bearer t-b").name()).isEqualTo("b");
    assertThatThrownBy(() -> auth.authenticate("Bearer t-a")).isInstanceOf(AuthException.class);

    Files.writeString(file, "b ingest not-a-hash\n");
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(10)));
    Thread.sleep(1_100);
    assertThat(auth.authenticate("Bearer t-b").name())
        .as("a broken file keeps the tokens")
        .isEqualTo("b");
  }

  @Test
  void authenticationIsOnByDefaultAndEveryWayToGetItWrongNamesTheSetting() throws Exception {
    assertThatThrownBy(
            () -> Auth.load(Settings.of(Map.of()), "http.auth-token", Set.of(Scope.INGEST)))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("auth.tokens-file: authentication is required");
    assertThatThrownBy(
            () ->
                Auth.load(
                    Settings.of(Map.of("http.auth-token", " ")),
                    "http.auth-token",
                    Set.of(Scope.INGEST)))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("http.auth-token: the token is empty");
    assertThatThrownBy(
            () ->
                Auth.load(
                    Settings.of(Map.of("http.auth-token", "x", "auth.disabled", "true")),
                    "http.auth-token",
                    Set.of(Scope.INGEST)))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("auth.disabled:");
    assertThatThrownBy(() -> withTokens("a ingest,superuser sha256:" + "0".repeat(64)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("line 1: unknown scope 'superuser'");
    assertThatThrownBy(() -> withTokens("a ingest sha256:abc"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("64 lower-case hex digits");
    assertThatThrownBy(
            () ->
                withTokens(TokenStore.line("a", "ingest", "x"), TokenStore.line("a", "read", "y")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("line 2: the name a is used twice");

    assertThatThrownBy(
            () -> withTokens(TokenStore.line("a", "ingest", "x") + " events-per-second=NaN"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("is not events-per-second=N");
    assertThatThrownBy(() -> withTokens(TokenStore.line("a", "ingest", "x") + " rps=5"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("unknown field 'rps'");
    Auth quoted =
        withTokens(
            TokenStore.line("a", "ingest", "x") + " events-per-second=5000 bytes-per-second=10MiB");
    assertThat(quoted.authenticate("Bearer x").quota())
        .isEqualTo(new Quotas.Quota(5000, 10 * 1048576));

    // a node's catalog token, bound to its partition
    Auth nodes =
        withTokens(
            TokenStore.line("node-3", "catalog:commit", "n3") + " partition=3",
            TokenStore.line("nodes", "catalog:commit", "n"));
    assertThat(nodes.authenticate("Bearer n3").partition()).hasValue(3);
    assertThat(nodes.authenticate("Bearer n3").mayCommitPartition(3)).isTrue();
    assertThat(nodes.authenticate("Bearer n3").mayCommitPartition(4)).isFalse();
    assertThat(nodes.authenticate("Bearer n").mayCommitPartition(4)).isTrue();
    assertThatThrownBy(
            () -> withTokens(TokenStore.line("a", "catalog:commit", "x") + " partition=-1"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("is not partition=N");
    assertThatThrownBy(() -> withTokens(TokenStore.line("a", "ingest", "x") + " partition=1"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("binds a catalog:commit token");

    Auth off =
        Auth.load(
            Settings.of(Map.of("auth.disabled", "true")), "http.auth-token", Set.of(Scope.INGEST));
    assertThat(off.enabled()).isFalse();
    assertThat(off.authenticate((String) null)).isEqualTo(Principal.ANONYMOUS);

    Auth single =
        Auth.load(
            Settings.of(Map.of("http.auth-token", "s3cret")),
            "http.auth-token",
            Set.of(Scope.INGEST, Scope.READ));
    assertThat(single.require("Bearer s3cret", Scope.READ).name()).isEqualTo("token");
    assertThatThrownBy(() -> single.require("Bearer s3cret", Scope.ADMIN))
        .isInstanceOf(AuthException.class);
  }
}
