package io.innerq.cli;

import io.innerq.cli.BenchServeCommand.SoakCheck;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The memory check at the end of a soak run ({@code bench serve --sample-seconds N}) fails on each kind of growth. */
class SoakCheckTests {

    private static final long MIB = 1L << 20;

    /**
     * A fixed, pre-touched heap of 512 MiB (20 MiB used), 4 MiB direct, 800 MiB resident (288 outside the heap)
     * before; after as given.
     */
    private static SoakCheck check(long heapAfter, long directAfter, long rssAfter) {
        return new SoakCheck(20 * MIB, heapAfter, 4 * MIB, directAfter, 800 * MIB, rssAfter, true, 512 * MIB);
    }

    @Test
    void memoryBackNearItsBaselinePasses() {
        assertThat(check(22 * MIB, 4 * MIB, 830 * MIB).passed()).isTrue();
    }

    @Test
    void nativeMemoryThatStayedFails() {
        var leak = check(22 * MIB, 4 * MIB, 800 * MIB + 100 * MIB);
        assertThat(leak.passed()).isFalse();
        assertThat(leak.residentBack()).isFalse();
        assertThat(leak.describe()).contains("resident set false");
    }

    @Test
    void aHeapThatStayedFails() {
        assertThat(check(60 * MIB, 4 * MIB, 800 * MIB).heapBack()).isFalse();
    }

    @Test
    void directBuffersThatStayedFail() {
        assertThat(check(20 * MIB, 20 * MIB, 800 * MIB).directBack()).isFalse();
    }

    @Test
    void withAHeapThatGrowsTheResidentSetIsShownButNotChecked() {
        // ParallelGC grew its heap under load and kept it: the resident set says nothing about leaks then
        var check = new SoakCheck(20 * MIB, 22 * MIB, 4 * MIB, 4 * MIB, 380 * MIB, 710 * MIB, false, 6 * 1024 * MIB);
        assertThat(check.residentChecked()).isFalse();
        assertThat(check.passed()).isTrue();
        assertThat(check.describe()).contains("resident set not checked", "-XX:+AlwaysPreTouch");
    }

    @Test
    void theResidentSetIsReadOnLinux() {
        long rss = BenchServeCommand.residentSetBytes();
        if (System.getProperty("os.name").startsWith("Linux")) {
            assertThat(rss).isGreaterThan(16 * MIB).isLessThan(Runtime.getRuntime().maxMemory() + (4096 * MIB));
        }
    }
}
