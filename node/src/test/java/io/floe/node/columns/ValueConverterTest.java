package io.floe.node.columns;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;

/** The converter's rules for each column type, at their edges. */
class ValueConverterTest {
  @Test
  void convertsAtTheEdgesOfEachType() {
    assertThat(convert("9223372036854775807", Types.LongType.get())).isEqualTo(Long.MAX_VALUE);
    assertThat(convert("-9223372036854775808", Types.LongType.get())).isEqualTo(Long.MIN_VALUE);
    assertThat(convert("1e2", Types.LongType.get())).isEqualTo(100L);
    assertThat(convert("2.0", Types.IntegerType.get())).isEqualTo(2);
    mismatch("9223372036854775808", Types.LongType.get(), "a whole number in range");
    mismatch("1.5", Types.LongType.get(), "a whole number");
    mismatch("\"1\"", Types.LongType.get(), "expected a long");
    mismatch("2147483648", Types.IntegerType.get(), "32 bits");
    mismatch("1e39", Types.FloatType.get(), "a float in range");
    assertThat(convert("\"-0.50\"", Types.DecimalType.of(3, 2))).isEqualTo(new BigDecimal("-0.50"));
    mismatch("123.4", Types.DecimalType.of(4, 2), "at most 4 digits");
    mismatch("\"1,5\"", Types.DecimalType.of(4, 2), "a number for decimal(4,2)");
    assertThat(convert("\"a\\u00e9\\n\"", Types.StringType.get())).isEqualTo("aé\n");
    assertThat(convert("{\"a\":[1]}", Types.StringType.get())).isEqualTo("{\"a\":[1]}");
    mismatch("\"2026-02-30\"", Types.DateType.get(), "a date");
    mismatch("\"2026-12-03T10:00:00\"", Types.TimestampType.withZone(), "RFC 3339 with offset");
    assertThat(convert("\"2026-12-03T10:00:00+02:00\"", Types.TimestampType.withoutZone()))
        .isEqualTo(LocalDateTime.parse("2026-12-03T08:00:00"));
    assertThat(convert("0", Types.TimestampType.withZone()))
        .isEqualTo(OffsetDateTime.parse("1970-01-01T00:00:00Z"));
    mismatch("\"123e4567e89b12d3a456426614174000\"", Types.UUIDType.get(), "a uuid");
    mismatch(
        "[1,\"x\"]",
        Types.ListType.ofOptional(9, Types.LongType.get()),
        "element 2: expected a long");
    mismatch("1", Types.ListType.ofOptional(9, Types.LongType.get()), "expected an array");
    assertThat(convert("null", Types.UUIDType.get())).isNull();
  }

  /**
   * Numbers whose digits or exponent cannot fit the type are refused before any arithmetic: before
   * the bound, {@code 1e-60000000} for a decimal took minutes and a million-digit integer seconds.
   */
  @Test
  void refusesHugeNumbersWithoutComputingThem() {
    String million = "9".repeat(1_000_000);
    Type decimal = Types.DecimalType.of(10, 2);
    Type wide = Types.DecimalType.of(38, 10);
    String[][] cases = {
      {"1e-60000000", "decimal"},
      {"\"1e-60000000\"", "decimal"},
      {"1e+60000000", "decimal"},
      {"-1E-2147483648", "decimal"},
      {"1e-2147483649", "decimal"},
      {"1e2147483648", "decimal"},
      {million, "decimal"},
      {"0." + million, "decimal"},
      {"1e-60000000", "wide"},
      {million, "wide"},
      {"0." + million, "wide"},
      {million, "long"},
      {"-" + million, "long"},
      {million + ".5", "long"},
      {"1e60000000", "long"},
      {"1e-60000000", "long"},
      {million, "int"},
      {"0." + million, "int"},
      {"1e60000000", "timestamptz"},
      {million, "timestamptz"},
    };
    for (String[] c : cases) {
      Type type =
          switch (c[1]) {
            case "decimal" -> decimal;
            case "wide" -> wide;
            case "long" -> Types.LongType.get();
            case "int" -> Types.IntegerType.get();
            default -> Types.TimestampType.withZone();
          };
      byte[] b = c[0].getBytes(StandardCharsets.US_ASCII);
      String name = c[0].length() > 30 ? c[0].length() + " characters" : c[0];
      // the old code ran for seconds to minutes on these: a hang is cut short. Once the JIT has
      // compiled the scan, each judgement (convert at flush, check at ingest) must cost little
      // CPU: thread CPU time, the least of a few runs, so that a GC pause or a preemption on a
      // shared machine does not count as the value's cost
      for (int warmUp = 0; warmUp < 3; warmUp++) {
        assertTimeoutPreemptively(
            Duration.ofSeconds(5), () -> refuses(b, type), name + " for " + type + " (warm-up)");
      }
      assertThat(leastCpu(() -> refusedAtFlush(b, type)))
          .as(name + " for " + type + " at flush")
          .isLessThan(Duration.ofMillis(10));
      assertThat(leastCpu(() -> refusedAtIngest(b, type)))
          .as(name + " for " + type + " at ingest")
          .isLessThan(Duration.ofMillis(10));
    }
  }

  /** The least thread CPU time of five runs of {@code judgement}, each cut short after 5 s. */
  private static Duration leastCpu(Runnable judgement) {
    long least = Long.MAX_VALUE;
    for (int run = 0; run < 5; run++) {
      long cpu =
          assertTimeoutPreemptively(
              Duration.ofSeconds(5),
              () -> {
                long start = THREADS.getCurrentThreadCpuTime();
                judgement.run();
                return THREADS.getCurrentThreadCpuTime() - start;
              });
      least = Math.min(least, cpu);
    }
    return Duration.ofNanos(least);
  }

  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  /** Convert (flush) and check (ingest) both refuse it. */
  private static void refuses(byte[] b, Type type) {
    refusedAtFlush(b, type);
    refusedAtIngest(b, type);
  }

  private static void refusedAtFlush(byte[] b, Type type) {
    assertThatThrownBy(() -> ValueConverter.convert(b, 0, b.length, type))
        .isInstanceOf(ValueConverter.Mismatch.class);
  }

  private static void refusedAtIngest(byte[] b, Type type) {
    assertThatThrownBy(() -> ValueConverter.check(b, 0, b.length, type))
        .isInstanceOf(ValueConverter.Mismatch.class);
  }

  @Test
  void numbersAtTheEdgesStillConvertExactly() {
    Type decimal = Types.DecimalType.of(10, 2);
    Type wide = Types.DecimalType.of(38, 10);
    assertThat(convert("99999999.99", decimal)).isEqualTo(new BigDecimal("99999999.99"));
    assertThat(convert("-99999999.99", decimal)).isEqualTo(new BigDecimal("-99999999.99"));
    assertThat(convert("9999999999e-2", decimal)).isEqualTo(new BigDecimal("99999999.99"));
    assertThat(convert("0.0000000001e8", decimal)).isEqualTo(new BigDecimal("0.01"));
    assertThat(convert("1.5000000000000000000000000000000", decimal))
        .isEqualTo(new BigDecimal("1.50"));
    assertThat(convert("0", decimal)).isEqualTo(new BigDecimal("0.00"));
    assertThat(convert("-0.0", decimal)).isEqualTo(new BigDecimal("0.00"));
    assertThat(convert("1e7", decimal)).isEqualTo(new BigDecimal("10000000.00"));
    assertThat(convert("\"12.5\"", decimal)).isEqualTo(new BigDecimal("12.50"));
    mismatch("1e8", decimal, "at most 10 digits");
    mismatch("100000000", decimal, "at most 10 digits");
    mismatch("0.001", decimal, "at most 2 decimal places");
    mismatch("1e-3", decimal, "at most 2 decimal places");
    String max38 = "9".repeat(28) + "." + "9".repeat(10);
    assertThat(convert(max38, wide)).isEqualTo(new BigDecimal(max38));
    assertThat(convert("-" + max38, wide)).isEqualTo(new BigDecimal("-" + max38));
    mismatch("1" + "0".repeat(28), wide, "at most 38 digits");
    assertThat(convert("9223372036854775807.000", Types.LongType.get())).isEqualTo(Long.MAX_VALUE);
    assertThat(convert("-9.223372036854775808e18", Types.LongType.get())).isEqualTo(Long.MIN_VALUE);
    mismatch("-9223372036854775809", Types.LongType.get(), "a whole number in range");
    mismatch("1e19", Types.LongType.get(), "a whole number in range");
    assertThat(convert("2147483647", Types.IntegerType.get())).isEqualTo(Integer.MAX_VALUE);
    assertThat(convert("-2147483648", Types.IntegerType.get())).isEqualTo(Integer.MIN_VALUE);
    mismatch("-2147483649", Types.IntegerType.get(), "32 bits");
    assertThat(convert("253402300799999", Types.TimestampType.withZone()))
        .isEqualTo(OffsetDateTime.parse("9999-12-31T23:59:59.999Z"));
    assertThat(convert("-62135596800000", Types.TimestampType.withZone()))
        .isEqualTo(OffsetDateTime.parse("0001-01-01T00:00:00Z"));
    mismatch("253402300800000", Types.TimestampType.withZone(), "a timestamp");
    assertThat(convert("3.4028234e38", Types.FloatType.get())).isEqualTo(Float.MAX_VALUE);
    assertThat(convert("1.7976931348623157e308", Types.DoubleType.get()))
        .isEqualTo(Double.MAX_VALUE);
    assertThat(convert("4.9e-324", Types.DoubleType.get())).isEqualTo(Double.MIN_VALUE);
  }

  @Test
  void theInternalRepresentationIsDaysAndMicrosAlsoInsideLists() {
    Type days = Types.ListType.ofOptional(1, Types.DateType.get());
    assertThat(ValueConverter.internal(convert("[\"1970-01-02\",null]", days), days))
        .isEqualTo(Arrays.asList(1, null));
    Type times = Types.ListType.ofOptional(1, Types.TimestampType.withZone());
    assertThat(
            ValueConverter.internal(
                convert("[\"1969-12-31T23:59:59.999999Z\",1000]", times), times))
        .isEqualTo(List.of(-1L, 1_000_000L));
    Type local = Types.TimestampType.withoutZone();
    assertThat(ValueConverter.internal(convert("\"1970-01-01 00:00:01\"", local), local))
        .isEqualTo(1_000_000L);
    assertThat(
            ValueConverter.internal(
                convert("\"12.5\"", Types.DecimalType.of(4, 2)), Types.DecimalType.of(4, 2)))
        .isEqualTo(new BigDecimal("12.50"));
    assertThat(ValueConverter.internal(null, Types.DateType.get())).isNull();
  }

  private static Object convert(String json, Type type) {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    return ValueConverter.convert(b, 0, b.length, type);
  }

  private static void mismatch(String json, Type type, String message) {
    assertThatThrownBy(() -> convert(json, type))
        .isInstanceOf(ValueConverter.Mismatch.class)
        .hasMessageContaining(message);
  }
}
