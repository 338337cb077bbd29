package io.innerq.app.cli;

import io.innerq.app.cli.BenchServeCommand.SoakCheck;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The memory check at the end of a soak run ({@code bench serve --sample-seconds N}) fails on each kind of growth. */
class SoakCheckTests {

    private static final long MIB = 1L << 20;

    /** heap 20 MiB used of 64 committed, 4 MiB direct, 300 MiB resident, before and after unless changed. */
    private static SoakCheck check(long heapAfter, long directAfter, long rssAfter, long committedAfter) {
        return new SoakCheck(20 * MIB, heapAfter, 4 * MIB, directAfter, 300 * MIB, rssAfter, 64 * MIB,
                committedAfter);
    }

    @Test
    void memoryBackNearItsBaselinePasses() {
        assertThat(check(22 * MIB, 4 * MIB, 310 * MIB, 64 * MIB).passed()).isTrue();
    }

    @Test
    void aResidentSetThatGrewWithTheCommittedHeapPasses() {
        // the JVM grew its heap by 128 MiB and touched it: not a leak
        assertThat(check(22 * MIB, 4 * MIB, 430 * MIB, 192 * MIB).passed()).isTrue();
    }

    @Test
    void nativeMemoryThatStayedFails() {
        var leak = check(22 * MIB, 4 * MIB, 300 * MIB + 100 * MIB, 64 * MIB);
        assertThat(leak.passed()).isFalse();
        assertThat(leak.residentBack()).isFalse();
        assertThat(leak.describe()).contains("resident set (less heap growth) false");
    }

    @Test
    void aHeapThatStayedFails() {
        assertThat(check(60 * MIB, 4 * MIB, 300 * MIB, 64 * MIB).heapBack()).isFalse();
    }

    @Test
    void directBuffersThatStayedFail() {
        assertThat(check(20 * MIB, 20 * MIB, 300 * MIB, 64 * MIB).directBack()).isFalse();
    }

    @Test
    void theResidentSetIsReadOnLinux() {
        long rss = BenchServeCommand.residentSetBytes();
        if (System.getProperty("os.name").startsWith("Linux")) {
            assertThat(rss).isGreaterThan(16 * MIB).isLessThan(Runtime.getRuntime().maxMemory() + (4096 * MIB));
        }
    }
}
