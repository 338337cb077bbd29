package io.innerq.cli;

import io.innerq.cache.KvMode;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/** Lists of KV cache modes as the commands take them: {@code fp32,innerq-small} or {@code all}. */
final class KvModes {

    private KvModes() {
    }

    static List<KvMode> parseList(String text) {
        return Arrays.stream(text.split(","))
                .map(String::strip)
                .flatMap(m -> m.equals("all") ? KvMode.all().stream() : Stream.of(KvMode.parse(m)))
                .distinct()
                .toList();
    }
}
