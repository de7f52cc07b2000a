package io.floe.catalog.maintenance;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.ManifestContent;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.ReachableFileUtil;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.SupportsPrefixOperations;
import org.apache.iceberg.util.JsonUtil;

/**
 * Removes files under the table's location that no snapshot, manifest or metadata file refers to
 * and that are older than the orphan age: uploads of flushes that crashed or failed before their
 * commit, compaction outputs whose commit lost, metadata files of failed commits. A file younger
 * than the orphan age is never touched, so an upload a node is about to commit is safe (a node
 * commits within Iceberg's commit retry time, 30 minutes; the age is at least 2 hours).
 *
 * <p>The location must be the table's alone: a sweep that finds a metadata file of another table
 * there (one outside this table's metadata log whose table UUID is not this table's: a table of the
 * same name dropped without purge or renamed, whose files the new one was created over) removes
 * nothing, since every file of that table would look like an orphan. A metadata file of this very
 * table outside its log (a commit that lost the race to another) does not stop it.
 */
final class OrphanSweeper {
  /**
   * The result of one sweep.
   *
   * @param foreignMetadata a metadata file of another table found under the location (the sweep was
   *     refused and removed nothing), or null
   * @param foreignUuid that file's table UUID, or null when it has none or cannot be read
   */
  record Sweep(int listed, int removed, String foreignMetadata, String foreignUuid) {
    boolean refused() {
      return foreignMetadata != null;
    }
  }

  /** Whether this table's storage can list its files (S3 and most object stores can). */
  static boolean supported(Table table) {
    return table.io() instanceof SupportsPrefixOperations;
  }

  Sweep sweep(Table table, long olderThanMillis) throws IOException {
    SupportsPrefixOperations io = (SupportsPrefixOperations) table.io();
    table.refresh();
    Set<String> referenced = referenced(table);
    String uuid = table.uuid().toString();
    int listed = 0;
    List<String> orphans = new ArrayList<>();
    String location = table.location().endsWith("/") ? table.location() : table.location() + "/";
    for (FileInfo f : io.listPrefix(location)) {
      listed++;
      if (referenced.contains(normalize(f.location()))) {
        continue;
      }
      if (isMetadataFile(f.location())) {
        String owner = tableUuid(table.io(), f.location());
        if (!uuid.equals(owner)) {
          return new Sweep(listed, 0, f.location(), owner);
        }
      }
      if (f.createdAtMillis() < olderThanMillis) {
        orphans.add(f.location());
      }
    }
    orphans.forEach(io::deleteFile);
    return new Sweep(listed, orphans.size(), null, null);
  }

  static boolean isMetadataFile(String location) {
    return location.endsWith(".metadata.json") || location.endsWith(".metadata.json.gz");
  }

  /**
   * The {@code table-uuid} a metadata file records (read up to that field), or null when it has
   * none or cannot be read.
   */
  static String tableUuid(FileIO io, String location) {
    boolean gzip = location.endsWith(".gz.metadata.json") || location.endsWith(".metadata.json.gz");
    try (InputStream raw = io.newInputFile(location).newStream();
        InputStream in = gzip ? new GZIPInputStream(raw) : raw;
        JsonParser json = JsonUtil.factory().createParser(in)) {
      if (json.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (json.nextToken() == JsonToken.FIELD_NAME) {
        String name = json.currentName();
        json.nextToken();
        if ("table-uuid".equals(name)) {
          return json.getValueAsString();
        }
        json.skipChildren();
      }
      return null;
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Every file the table's metadata refers to: metadata files, manifest lists, manifests, data and
   * delete files.
   */
  static Set<String> referenced(Table table) throws IOException {
    Set<String> paths = new HashSet<>();
    ReachableFileUtil.metadataFileLocations(table, false).forEach(p -> paths.add(normalize(p)));
    paths.add(normalize(ReachableFileUtil.versionHintLocation(table)));
    ReachableFileUtil.statisticsFilesLocations(table).forEach(p -> paths.add(normalize(p)));
    Set<String> manifests = new HashSet<>();
    for (Snapshot s : table.snapshots()) {
      if (s.manifestListLocation() != null) {
        paths.add(normalize(s.manifestListLocation()));
      }
      List<ManifestFile> all = s.allManifests(table.io());
      for (ManifestFile m : all) {
        if (manifests.add(m.path())) {
          paths.add(normalize(m.path()));
          if (m.content() == ManifestContent.DELETES) {
            try (ManifestReader<DeleteFile> deletes =
                ManifestFiles.readDeleteManifest(m, table.io(), table.specs())) {
              deletes.forEach(d -> paths.add(normalize(d.location())));
            }
          } else {
            try (CloseableIterable<String> files =
                ManifestFiles.readPaths(m, table.io(), table.specs())) {
              files.forEach(p -> paths.add(normalize(p)));
            }
          }
        }
      }
    }
    return paths;
  }

  /** The same object under the spellings object stores are written with (s3, s3a, s3n). */
  static String normalize(String location) {
    if (location.startsWith("s3a://") || location.startsWith("s3n://")) {
      return "s3://" + location.substring(6);
    }
    return location;
  }
}
