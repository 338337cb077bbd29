package io.innerq.server;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

import java.util.List;

/**
 * The HTTP API, under {@code innerq.*}. The limits bound what one request may ask of the server before anything
 * runs; {@code max_tokens} is bounded by the model's context, {@code n} is 1.
 *
 * @param apiKeys          SHA-256 hashes (hex) of the accepted API keys ({@code printf %s "$KEY" | sha256sum});
 *                         when set, every {@code /v1} request needs one of the keys as a bearer token
 * @param requireApiKeys   whether keys are required; unset means: when the server binds beyond loopback
 * @param maxRequestSize   the largest request body taken
 * @param maxMessages      the most messages of one chat request
 * @param maxMessageLength the most characters of one message's content, or of a completion's prompt
 * @param maxStopSequences the most stop strings of one request
 * @param maxStopLength    the most characters of one stop string
 */
@ConfigurationProperties("innerq")
public record InnerqServerProperties(@DefaultValue List<String> apiKeys, Boolean requireApiKeys,
                              @DefaultValue("1MB") DataSize maxRequestSize,
                              @DefaultValue("1024") int maxMessages,
                              @DefaultValue("262144") int maxMessageLength,
                              @DefaultValue("16") int maxStopSequences,
                              @DefaultValue("256") int maxStopLength) {

    public InnerqServerProperties {
        positive("innerq.max-messages", maxMessages);
        positive("innerq.max-message-length", maxMessageLength);
        positive("innerq.max-stop-sequences", maxStopSequences);
        positive("innerq.max-stop-length", maxStopLength);
        if (maxRequestSize != null && maxRequestSize.toBytes() < 1) {
            throw new IllegalArgumentException("innerq.max-request-size must be positive, got " + maxRequestSize);
        }
    }

    private static void positive(String property, int value) {
        if (value < 1) {
            throw new IllegalArgumentException("%s must be at least 1, got %d".formatted(property, value));
        }
    }
}
