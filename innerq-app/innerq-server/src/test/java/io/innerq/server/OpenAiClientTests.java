package io.innerq.server;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.ai.chat.metadata.Usage;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;
import org.springframework.ai.openai.OpenAiChatModel;
import org.springframework.ai.openai.OpenAiChatOptions;
import org.springframework.boot.test.web.server.LocalServerPort;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

import static io.innerq.server.InnerqServiceTest.TEST_KEY;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A client we did not write, Spring AI's {@link OpenAiChatModel} over the official OpenAI Java SDK, completes a chat
 * against the running service, whole and streamed.
 */
@InnerqServiceTest
class OpenAiClientTests {

    @LocalServerPort
    int port;

    OpenAiChatModel client;

    @BeforeEach
    void client() {
        String model = new Http(port).get("/v1/models", TEST_KEY).json().path("data").get(0).path("id").asString();
        // The SDK's base URL includes the version, as its default https://api.openai.com/v1 does.
        client = OpenAiChatModel.builder()
                .options(OpenAiChatOptions.builder()
                        .baseUrl("http://127.0.0.1:" + port + "/v1")
                        .apiKey(TEST_KEY)
                        .model(model)
                        .temperature(0.0)
                        .maxTokens(20)
                        .streamUsage(true)
                        .maxRetries(0)
                        .timeout(Duration.ofSeconds(30))
                        .build())
                .build();
    }

    @Test
    void aWholeAndAStreamedChatGiveTheSameText() {
        var prompt = new Prompt("Once upon a time");

        ChatResponse whole = client.call(prompt);
        String text = whole.getResult().getOutput().getText();
        assertThat(text).isNotBlank();
        assertPositive(whole.getMetadata().getUsage());

        List<ChatResponse> chunks = client.stream(prompt).collectList().block(Duration.ofSeconds(30));
        assertThat(chunks).isNotEmpty();
        String streamed = String.join("", chunks.stream()
                .filter(c -> c.getResult() != null && c.getResult().getOutput() != null)
                .map(c -> c.getResult().getOutput().getText())
                .filter(Objects::nonNull)
                .toList());
        assertThat(streamed).isEqualTo(text);
        assertPositive(chunks.getLast().getMetadata().getUsage());
    }

    private static void assertPositive(Usage usage) {
        assertThat(usage.getPromptTokens()).isPositive();
        assertThat(usage.getCompletionTokens()).isPositive();
        assertThat(usage.getTotalTokens()).isEqualTo(usage.getPromptTokens() + usage.getCompletionTokens());
    }
}
