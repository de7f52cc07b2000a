package io.floe.it.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ProcessCpuTest {
  @Test
  void readsTicksAfterANameHoldingSpacesAndParentheses() {
    String line =
        "4242 (C2 Compiler) (x)) S 1 4242 4242 0 -1 4194560 2000 0 0 0 1234 56 0 0 20 0 31 0 100";
    assertThat(ProcessCpu.name(line)).isEqualTo("C2 Compiler) (x)");
    assertThat(ProcessCpu.ticks(line)).isEqualTo(1290);
  }

  @Test
  void splitsTheDeltaByThreadGroupAndLeavesEndedThreadsUnderOther() {
    ProcessCpu node = new ProcessCpu("node", 1, ProcessCpu::nodeGroup);
    ProcessCpu.Sample from =
        new ProcessCpu.Sample(
            1_000,
            Map.of(
                10L, new ProcessCpu.Thread("vert.x-eventloo", 300),
                11L, new ProcessCpu.Thread("floe-flusher", 100),
                12L, new ProcessCpu.Thread("floe-file-writ", 50)));
    ProcessCpu.Sample to =
        new ProcessCpu.Sample(
            2_000,
            Map.of(
                10L, new ProcessCpu.Thread("vert.x-eventloo", 500),
                11L, new ProcessCpu.Thread("floe-flusher", 150),
                13L, new ProcessCpu.Thread("floe-file-writ", 250),
                14L, new ProcessCpu.Thread("rocksdb:low", 100),
                15L, new ProcessCpu.Thread("GC Thread#0", 200)));
    Map<String, Double> s = node.seconds(from, to, 100);
    assertThat(s)
        .containsEntry("total", 10.0)
        .containsEntry("ingest", 2.0)
        .containsEntry("flush", 3.0)
        .containsEntry("buffer", 1.0)
        .containsEntry("jvm", 2.0)
        .containsEntry("other", 2.0);
  }

  @Test
  void readsThisProcess() {
    ProcessCpu self = new ProcessCpu("self", ProcessHandle.current().pid(), ProcessCpu::jvmGroup);
    ProcessCpu.Sample a = self.sample();
    assertThat(a.threads()).isNotEmpty();
    assertThat(a.totalTicks()).isPositive();
  }
}
