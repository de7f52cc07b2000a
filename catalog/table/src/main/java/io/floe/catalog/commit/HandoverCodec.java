package io.floe.catalog.commit;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.ManifestWriter;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.inmemory.InMemoryInputFile;
import org.apache.iceberg.inmemory.InMemoryOutputFile;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;

/**
 * The written files of a hand-over, as bytes for the wire: Iceberg's own manifest format (Avro,
 * with every column metric), written in memory, so the committer reads back exactly the {@code
 * DataFile}s the node wrote, with no extra storage request and no Java serialization to break a
 * rolling update.
 *
 * <p>Layout: a version byte, the number of manifests (one per partition spec among the files), and
 * per manifest its entry ({@link ManifestFiles#encode}) and its content, each length-prefixed.
 */
public final class HandoverCodec {
  private static final byte VERSION = 1;
  private static final int FORMAT_VERSION = 2;

  /**
   * The snapshot id the manifest's entries name: none yet (the committer's append assigns the real
   * one), but a manifest entry must name one to be encoded and read.
   */
  private static final long NO_SNAPSHOT = 0L;

  /** At most this many manifests (partition specs) in one hand-over. */
  private static final int MAX_MANIFESTS = 64;

  private HandoverCodec() {}

  /**
   * Encodes {@code files}, each written under one of {@code specs} (the table's, by id).
   *
   * @throws IllegalArgumentException when a file's spec is not among {@code specs}
   */
  public static byte[] encode(List<DataFile> files, Map<Integer, PartitionSpec> specs) {
    Map<Integer, List<DataFile>> bySpec = new LinkedHashMap<>();
    for (DataFile f : files) {
      if (!specs.containsKey(f.specId())) {
        throw new IllegalArgumentException(
            "file " + f.location() + " names partition spec " + f.specId() + ", unknown here");
      }
      bySpec.computeIfAbsent(f.specId(), id -> new ArrayList<>()).add(f);
    }
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeByte(VERSION);
      out.writeInt(bySpec.size());
      for (Map.Entry<Integer, List<DataFile>> e : bySpec.entrySet()) {
        OutputFile file = new InMemoryOutputFile("handover://" + UUID.randomUUID() + ".avro");
        ManifestWriter<DataFile> writer =
            ManifestFiles.write(FORMAT_VERSION, specs.get(e.getKey()), file, NO_SNAPSHOT);
        try (writer) {
          e.getValue().forEach(writer::add);
        }
        byte[] entry = ManifestFiles.encode(writer.toManifestFile());
        byte[] content = ((InMemoryOutputFile) file).toByteArray();
        out.writeInt(entry.length);
        out.write(entry);
        out.writeInt(content.length);
        out.write(content);
      }
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("could not encode the hand-over's files", e);
    }
  }

  /**
   * Decodes what {@link #encode} wrote, reading each file's partition with {@code specs} (the
   * committer's table's).
   *
   * @throws IllegalArgumentException when the bytes are not a hand-over or name an unknown spec
   */
  public static List<DataFile> decode(byte[] bytes, Map<Integer, PartitionSpec> specs) {
    List<DataFile> files = new ArrayList<>();
    try {
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
      byte version = in.readByte();
      if (version != VERSION) {
        throw new IllegalArgumentException("unknown hand-over encoding version " + version);
      }
      int manifests = in.readInt();
      if (manifests < 0 || manifests > MAX_MANIFESTS) {
        throw new IllegalArgumentException("a hand-over with " + manifests + " manifests");
      }
      for (int m = 0; m < manifests; m++) {
        ManifestFile entry = ManifestFiles.decode(readChunk(in, bytes.length));
        if (!specs.containsKey(entry.partitionSpecId())) {
          throw new IllegalArgumentException(
              "the hand-over names partition spec " + entry.partitionSpecId() + ", unknown here");
        }
        byte[] content = readChunk(in, bytes.length);
        FileIO io = new OneFileIO(new InMemoryInputFile(entry.path(), content));
        try (ManifestReader<DataFile> reader = ManifestFiles.read(entry, io, specs)) {
          for (DataFile f : reader) {
            files.add(f.copy());
          }
        }
      }
      if (in.available() > 0) {
        throw new IllegalArgumentException("trailing bytes after the hand-over's manifests");
      }
      return files;
    } catch (IOException | RuntimeException e) {
      if (e instanceof IllegalArgumentException iae) {
        throw iae;
      }
      throw new IllegalArgumentException("not a readable hand-over: " + e.getMessage(), e);
    }
  }

  private static byte[] readChunk(DataInputStream in, int limit) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > limit) {
      throw new IllegalArgumentException("a hand-over chunk of " + length + " bytes");
    }
    byte[] chunk = in.readNBytes(length);
    if (chunk.length != length) {
      throw new IllegalArgumentException("a hand-over cut short");
    }
    return chunk;
  }

  /** A read-only file system holding one file. */
  private static final class OneFileIO implements FileIO {
    private final InputFile file;

    OneFileIO(InputFile file) {
      this.file = file;
    }

    @Override
    public InputFile newInputFile(String path) {
      if (!path.equals(file.location())) {
        throw new IllegalArgumentException("no file " + path + " in the hand-over");
      }
      return file;
    }

    @Override
    public OutputFile newOutputFile(String path) {
      throw new UnsupportedOperationException("a hand-over is read-only");
    }

    @Override
    public void deleteFile(String path) {
      throw new UnsupportedOperationException("a hand-over is read-only");
    }
  }
}
