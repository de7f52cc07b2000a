package io.floe.catalog.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL driver, told to use {@link RdsIamAuthPlugin}, logs in with an RDS IAM token for
 * the connection's host, port and user: a loopback server speaking the start of the PostgreSQL
 * protocol asks for a cleartext password and records what the driver sends.
 */
class RdsIamAuthPluginTest {

  @BeforeAll
  static void credentials() {
    System.setProperty("aws.accessKeyId", "AKIDFLOETEST");
    System.setProperty("aws.secretAccessKey", "secret-key-for-signing-only");
  }

  @AfterAll
  static void clear() {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
  }

  @Test
  void theDriverLogsInWithAFreshIamTokenForItsHostPortAndUser() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      CompletableFuture<Map<String, String>> login =
          CompletableFuture.supplyAsync(() -> acceptOneLogin(server));
      Properties props = new Properties();
      props.setProperty("user", "floe_catalog");
      props.setProperty("authenticationPluginClassName", RdsIamAuthPlugin.class.getName());
      props.setProperty(RdsIamAuthPlugin.REGION, "eu-west-1");
      String url =
          "jdbc:postgresql://127.0.0.1:"
              + server.getLocalPort()
              + "/floe?sslmode=disable&gssEncMode=disable"
              + "&connectTimeout=5";

      assertThatThrownBy(() -> DriverManager.getConnection(url, props))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("test server refuses");

      Map<String, String> seen = login.get(10, TimeUnit.SECONDS);
      assertThat(seen.get("user")).isEqualTo("floe_catalog");
      String token = seen.get("password");
      assertThat(token)
          .startsWith("127.0.0.1:" + server.getLocalPort() + "/?")
          .contains("Action=connect")
          .contains("DBUser=floe_catalog")
          .contains("X-Amz-Credential=AKIDFLOETEST%2F")
          .contains("%2Feu-west-1%2Frds-db%2Faws4_request")
          .contains("X-Amz-Expires=900")
          .containsPattern("X-Amz-Signature=[0-9a-f]{64}")
          .doesNotContain("secret-key-for-signing-only");
    }
  }

  @Test
  void aConnectionWithSeveralHostsIsRefusedWithAClearError() {
    Properties info = new Properties();
    info.setProperty("PGHOST", "a.example,b.example");
    info.setProperty("user", "floe_catalog");
    assertThatThrownBy(() -> new RdsIamAuthPlugin(info).getPassword(null))
        .hasMessageContaining("needs one database host");
  }

  /** Reads a startup message, asks for a cleartext password, records it and refuses the login. */
  private static Map<String, String> acceptOneLogin(ServerSocket server) {
    try (Socket s = server.accept()) {
      s.setSoTimeout(10_000);
      DataInputStream in = new DataInputStream(s.getInputStream());
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      byte[] startup = new byte[in.readInt() - 4];
      in.readFully(startup);
      Map<String, String> seen = new HashMap<>();
      String[] fields =
          new String(startup, 4, startup.length - 4, StandardCharsets.UTF_8).split("\0");
      for (int i = 0; i + 1 < fields.length; i += 2) {
        seen.put(fields[i], fields[i + 1]);
      }
      out.writeByte('R');
      out.writeInt(8);
      out.writeInt(3); // AuthenticationCleartextPassword
      out.flush();
      if (in.readByte() != 'p') {
        throw new IOException("expected a password message");
      }
      byte[] password = new byte[in.readInt() - 4];
      in.readFully(password);
      seen.put("password", new String(password, 0, password.length - 1, StandardCharsets.UTF_8));
      byte[] error =
          "SFATAL\0C28P01\0Mtest server refuses every login\0\0".getBytes(StandardCharsets.UTF_8);
      out.writeByte('E');
      out.writeInt(4 + error.length);
      out.write(error);
      out.flush();
      return seen;
    } catch (IOException e) {
      throw new RuntimeException(e);
    }
  }
}
