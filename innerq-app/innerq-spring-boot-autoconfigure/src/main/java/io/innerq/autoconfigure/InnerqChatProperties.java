package io.innerq.autoconfigure;

import io.innerq.ai.InnerqChatOptions;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

import java.util.List;

/**
 * Default options of the InnerQ chat model, under {@code spring.ai.innerq.chat.options.*} (Spring AI's layout for a
 * provider). Unset options fall back to llama.cpp's sampling defaults, generation until the end of text, the context
 * or the KV budget, and {@code spring.ai.innerq.kv.mode}.
 */
@ConfigurationProperties(InnerqChatProperties.PREFIX)
public record InnerqChatProperties(@DefaultValue Options options) {

    public static final String PREFIX = "spring.ai.innerq.chat";

    /** The fields of {@link InnerqChatOptions}; see there. */
    public record Options(String model, Double temperature, Double topP, Integer topK, Double minP, Integer maxTokens,
                          List<String> stop, Long seed, Double repetitionPenalty, String kvCacheMode) {
    }

    /** The chat defaults these properties describe; an impossible value fails here, with its property. */
    public InnerqChatOptions toOptions() {
        try {
            return InnerqChatOptions.builder().model(options.model()).temperature(options.temperature())
                    .topP(options.topP()).topK(options.topK()).minP(options.minP()).maxTokens(options.maxTokens())
                    .stopSequences(options.stop()).seed(options.seed())
                    .repetitionPenalty(options.repetitionPenalty()).kvCacheMode(options.kvCacheMode()).build();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(PREFIX + ".options: " + e.getMessage(), e);
        }
    }
}
