package io.innerq.ai;

import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.prompt.ChatOptions;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class InnerqChatOptionsTests {

    private final InnerqChatOptions all = InnerqChatOptions.builder().model("m").temperature(0.5).topP(0.9).topK(7)
            .minP(0.1).maxTokens(33).stopSequences(List.of("x")).seed(3L).repetitionPenalty(1.2)
            .kvCacheMode("fp16").build();

    @Test
    void copyAndMutateKeepEveryField() {
        assertThat(all.copy()).isEqualTo(all).isNotSameAs(all).hasSameHashCodeAs(all);
        assertThat(all.mutate().build()).isEqualTo(all);
        var changed = all.mutate().temperature(0.0).build();
        assertThat(changed.getTemperature()).isZero();
        assertThat(all.getTemperature()).isEqualTo(0.5);
    }

    @Test
    void combineLaysSetValuesOverDefaults() {
        var merged = all.mutate().combineWith(InnerqChatOptions.builder().seed(9L).kvCacheMode("q8_0")
                .stopSequences(List.of("y"))).build();
        assertThat(merged.getSeed()).isEqualTo(9L);
        assertThat(merged.getKvCacheMode()).isEqualTo("q8_0");
        assertThat(merged.getTopK()).isEqualTo(7);
        assertThat(merged.getStopSequences()).containsExactly("x", "y");
    }

    @Test
    void portableOptionsCombineToo() {
        var merged = all.mutate().combineWith(ChatOptions.builder().temperature(1.0).maxTokens(5)).build();
        assertThat(merged.getTemperature()).isEqualTo(1.0);
        assertThat(merged.getMaxTokens()).isEqualTo(5);
        assertThat(merged.getMinP()).isEqualTo(0.1);
    }
}
