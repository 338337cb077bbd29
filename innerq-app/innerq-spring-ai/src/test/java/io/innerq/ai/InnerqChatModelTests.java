package io.innerq.ai;

import io.innerq.cache.KvMode;
import io.innerq.serving.BackendKind;
import io.innerq.serving.EngineSettings;
import io.innerq.serving.InnerqEngine;
import io.innerq.serving.ModelSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.ai.chat.client.ChatClient;
import org.springframework.ai.chat.model.ChatModel;
import org.springframework.ai.chat.model.ChatResponse;
import org.springframework.ai.chat.prompt.Prompt;

import java.io.IOException;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Spring AI chat model over the real stories260K model (the embedded one), as an application sees it, without
 * Spring Boot: the engine made by hand, observations recorded as meters by Micrometer's default handler.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InnerqChatModelTests {

    static final String GREEDY_CONTINUATION = ", there was a little girl named Lily. She loved to play outside";

    final MeterRegistry meters = new SimpleMeterRegistry();
    final InnerqEngine engine;
    final ChatModel chatModel;

    InnerqChatModelTests() throws IOException {
        engine = InnerqEngine.opener(new ModelSource.Embedded(), new EngineSettings(BackendKind.CPU, 2, 1,
                KvMode.parse("innerq-small"), 64L << 20, Duration.ofSeconds(2), Duration.ofSeconds(20))).open();
        var observations = ObservationRegistry.create();
        observations.observationConfig().observationHandler(new DefaultMeterObservationHandler(meters));
        chatModel = new InnerqChatModel(engine, InnerqChatOptions.builder().build(), observations);
    }

    @AfterAll
    void close() {
        engine.close();
    }

    private static InnerqChatOptions.Builder greedy() {
        return InnerqChatOptions.builder().temperature(0.0).kvCacheMode("fp32");
    }

    @Test
    void theChatModelIsInnerqs() {
        assertThat(chatModel).isInstanceOf(InnerqChatModel.class);
        assertThat(chatModel.getOptions().getModel()).isEqualTo("stories260K");
    }

    @Test
    void chatClientCompletesAStory() {
        String content = ChatClient.create(chatModel).prompt().user("Once upon a time")
                .options(greedy().maxTokens(20)).call().content();
        assertThat(content).startsWith(GREEDY_CONTINUATION.substring(0, 30));
    }

    @Test
    void callReportsUsageFinishReasonAndModel() {
        ChatResponse r = chatModel.call(new Prompt("Once upon a time", greedy().maxTokens(12).build()));
        assertThat(r.getResult().getOutput().getText()).startsWith(", there was");
        assertThat(r.getResult().getMetadata().getFinishReason()).isEqualTo("length");
        var usage = r.getMetadata().getUsage();
        assertThat(usage.getPromptTokens()).isEqualTo(5); // BOS + 4 tokens
        assertThat(usage.getCompletionTokens()).isEqualTo(12);
        assertThat(usage.getTotalTokens()).isEqualTo(17);
        assertThat(r.getMetadata().getModel()).isEqualTo("stories260K");
        assertThat(r.getMetadata().getId()).startsWith("chatcmpl-");
    }

    @Test
    void aStopSequenceEndsTheReplyWithStop() {
        ChatResponse r = chatModel.call(new Prompt("Once upon a time",
                greedy().maxTokens(40).stopSequences(List.of("Lily")).build()));
        assertThat(r.getResult().getOutput().getText()).isEqualTo(", there was a little girl named ");
        assertThat(r.getResult().getMetadata().getFinishReason()).isEqualTo("stop");
    }

    @Test
    void streamEmitsOneChunkPerDeltaWithCumulativeUsageThenTheFinishReason() {
        List<ChatResponse> chunks = chatModel.stream(new Prompt("Once upon a time", greedy().maxTokens(10).build()))
                .collectList().block();
        assertThat(chunks).hasSize(11); // 10 tokens of plain ASCII text, then the finish
        for (int i = 0; i < 10; i++) {
            var c = chunks.get(i);
            assertThat(c.getResult().getOutput().getText()).isNotEmpty();
            assertThat(c.getResult().getMetadata().getFinishReason()).isNull();
            assertThat(c.getMetadata().getUsage().getCompletionTokens()).isEqualTo(i + 1);
            assertThat(c.getMetadata().getUsage().getPromptTokens()).isEqualTo(5);
        }
        var last = chunks.getLast();
        assertThat(last.getResult().getOutput().getText()).isEmpty();
        assertThat(last.getResult().getMetadata().getFinishReason()).isEqualTo("length");
        assertThat(last.getMetadata().getUsage().getCompletionTokens()).isEqualTo(10);
        String text = String.join("", chunks.stream().map(c -> c.getResult().getOutput().getText()).toList());
        String called = chatModel.call(new Prompt("Once upon a time", greedy().maxTokens(10).build()))
                .getResult().getOutput().getText();
        assertThat(text).isEqualTo(called);
    }

    @Test
    void cancellingAStreamFreesItsCacheAtOnce() throws InterruptedException {
        var sampled = InnerqChatOptions.builder().temperature(1.5).seed(7L).maxTokens(1500).build();
        var first = chatModel.stream(new Prompt("Once upon a time", sampled)).take(2).collectList().block();
        assertThat(first).hasSize(2);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (engine.activeGenerations() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(engine.activeGenerations()).isZero();
        assertThat(engine.kvBytesInUse()).isZero();
        assertThat(engine.kvBytesReserved()).isZero();
    }

    @Test
    void chatClientStreamsContent() {
        String text = String.join("", ChatClient.create(chatModel).prompt().user("Once upon a time")
                .options(greedy().maxTokens(20)).stream().content().collectList().block());
        assertThat(text).startsWith(GREEDY_CONTINUATION.substring(0, 30));
    }

    @Test
    void optionsSetOnTheRequestOverrideTheDefaultsAndSeedsRepeat() {
        var sampled = InnerqChatOptions.builder().temperature(1.0).topK(40).topP(0.9).minP(0.05)
                .repetitionPenalty(1.1).seed(42L).maxTokens(16).kvCacheMode("innerq-small");
        String a = ChatClient.create(chatModel).prompt().user("Once upon a time").options(sampled).call().content();
        String b = ChatClient.create(chatModel).prompt().user("Once upon a time").options(sampled).call().content();
        assertThat(a).isEqualTo(b).isNotEmpty();
        ChatResponse r = chatModel.call(new Prompt("Once upon a time", sampled.build()));
        assertThat(r.getMetadata().<String>get("kv-cache-mode")).isEqualTo("innerq-small");
    }

    @Test
    void callsAreObservedAsSpringAiChatOperations() {
        chatModel.call(new Prompt("Once upon a time", greedy().maxTokens(3).build()));
        var timers = meters.find("gen_ai.client.operation").timers();
        assertThat(timers).anySatisfy(t -> {
            assertThat(t.getId().getTag("gen_ai.system")).isEqualTo("innerq");
            assertThat(t.getId().getTag("gen_ai.request.model")).isEqualTo("stories260K");
        });
    }

    @Test
    void badOptionsAndUnknownModelsAreClearErrors() {
        assertThatThrownBy(() -> InnerqChatOptions.builder().topP(1.5).build())
                .hasMessageContaining("top-p must be in (0, 1]");
        assertThatThrownBy(() -> InnerqChatOptions.builder().kvCacheMode("innerq-7").build())
                .hasMessageContaining("unknown KV cache mode 'innerq-7'");
        assertThatThrownBy(() -> InnerqChatOptions.builder().frequencyPenalty(0.5).build())
                .hasMessageContaining("repetitionPenalty");
        assertThatThrownBy(() -> chatModel.call(new Prompt("x", InnerqChatOptions.builder().model("gpt-4").build())))
                .isInstanceOf(InnerqChatModel.UnknownModelException.class)
                .hasMessageContaining("'gpt-4'").hasMessageContaining("stories260K");
    }
}
