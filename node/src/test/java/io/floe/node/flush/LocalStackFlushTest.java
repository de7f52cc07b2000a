package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.config.NodeConfig;
import java.net.URI;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.localstack.LocalStackContainer;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.DockerImageName;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The flush scenario against LocalStack's S3, wherever Docker exists; skipped cleanly where it does
 * not.
 */
@Testcontainers(disabledWithoutDocker = true)
class LocalStackFlushTest {
  @Container
  static final LocalStackContainer LOCALSTACK =
      new LocalStackContainer(DockerImageName.parse("localstack/localstack:3.8"))
          .withServices(LocalStackContainer.Service.S3);

  @TempDir Path tmp;

  @Test
  void flushesToLocalStackS3AndReadsBack() throws Exception {
    URI endpoint = LOCALSTACK.getEndpointOverride(LocalStackContainer.Service.S3);
    try (S3Client s3 =
        S3Client.builder()
            .endpointOverride(endpoint)
            .forcePathStyle(true)
            .region(Region.of(LOCALSTACK.getRegion()))
            .credentialsProvider(
                StaticCredentialsProvider.create(
                    AwsBasicCredentials.create(
                        LOCALSTACK.getAccessKey(), LOCALSTACK.getSecretKey())))
            .build()) {
      s3.createBucket(b -> b.bucket("floe"));
    }
    Map<String, String> fileIo = new HashMap<>();
    fileIo.put("io-impl", "org.apache.iceberg.aws.s3.S3FileIO");
    fileIo.put("s3.endpoint", endpoint.toString());
    fileIo.put("s3.path-style-access", "true");
    fileIo.put("s3.access-key-id", LOCALSTACK.getAccessKey());
    fileIo.put("s3.secret-access-key", LOCALSTACK.getSecretKey());
    fileIo.put("client.region", LOCALSTACK.getRegion());
    try (TableEnv env = TableEnv.start(tmp, null, fileIo);
        Node node = Node.start(NodeConfig.load(Settings.of(env.nodeSettings(0))))) {
      Ingest ingest = new Ingest();
      for (int i = 0; i < 5; i++) {
        assertThat(ingest.send(node.port(), "ls", "b" + i, 100).statusCode()).isEqualTo(200);
      }
      assertThat(node.flusher().flushNow().get()).isEqualTo(500);
      Ingest.assertExactly(env.rows(), 0, ingest.acknowledged);
    }
  }
}
