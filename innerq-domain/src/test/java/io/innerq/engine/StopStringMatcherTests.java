package io.innerq.engine;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class StopStringMatcherTests {

    @Test
    void passesTextThroughWithoutStops() {
        var m = new StopStringMatcher(List.of());
        assertThat(m.add("Hello")).isEqualTo("Hello");
        assertThat(m.add(" world")).isEqualTo(" world");
        assertThat(m.flush()).isEmpty();
    }

    @Test
    void holdsBackAPossibleStopUntilDecided() {
        var m = new StopStringMatcher(List.of("</s>"));
        assertThat(m.add("one <")).isEqualTo("one ");
        assertThat(m.add("/")).isEmpty();
        assertThat(m.add("x")).isEqualTo("</x");
        assertThat(m.stopped()).isFalse();
    }

    @Test
    void stopsBeforeAStopSpanningChunks() {
        var m = new StopStringMatcher(List.of("\nUser:"));
        assertThat(m.add("Sure.\nUs")).isEqualTo("Sure.");
        assertThat(m.add("er: hi")).isEmpty();
        assertThat(m.stopped()).isTrue();
        assertThat(m.emittedText()).isEqualTo("Sure.");
        assertThat(m.add("more")).isEmpty();
    }

    @Test
    void earliestOfSeveralStopsWins() {
        var m = new StopStringMatcher(List.of("C", "AB"));
        assertThat(m.add("xxABC")).isEqualTo("xx");
        assertThat(m.stopped()).isTrue();
    }

    @Test
    void flushReleasesAHeldPrefix() {
        var m = new StopStringMatcher(List.of("STOP"));
        assertThat(m.add("end ST")).isEqualTo("end ");
        assertThat(m.flush()).isEqualTo("ST");
        assertThat(m.emittedText()).isEqualTo("end ST");
    }
}
