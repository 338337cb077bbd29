package io.innerq.chat;

import io.innerq.gguf.GgufFile;
import io.innerq.testing.TestModels;
import io.innerq.tokenizer.Tokenizer;
import io.innerq.tokenizer.Tokenizers;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;

import static io.innerq.chat.ChatMessage.assistant;
import static io.innerq.chat.ChatMessage.system;
import static io.innerq.chat.ChatMessage.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ChatTemplateTests {

    // Official templates (abridged where the rest changes nothing detection looks at).
    static final String LLAMA2_JINJA = "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
            + "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
            + "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
            + "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message"
            + " + '\\n<</SYS>>\\n\\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}"
            + "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
            + "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}"
            + "{% endfor %}";
    static final String LLAMA3_JINJA = "{% set loop_messages = messages %}{% for message in loop_messages %}"
            + "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+"
            + " message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token +"
            + " content %}{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}"
            + "{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}";
    static final String LLAMA31_JINJA = "{{- bos_token }}\n{%- if not date_string is defined %}\n"
            + "    {%- set date_string = \"26 Jul 2024\" %}\n{%- endif %}\n"
            + "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n"
            + "{{- \"Cutting Knowledge Date: December 2023\\n\" }}\n"
            + "{{- \"Today Date: \" + date_string + \"\\n\\n\" }}\n";
    static final String SMOLLM2_JINJA = "{% for message in messages %}{% if loop.first and messages[0]['role'] !="
            + " 'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging"
            + " Face<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] +"
            + " '<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}"
            + "{% endif %}";
    static final String QWEN_JINJA = "{%- if tools %}\n    {{- '<|im_start|>system\\n' }}\n"
            + "    {%- if messages[0]['role'] == 'system' %}\n        {{- messages[0]['content'] }}\n"
            + "{%- else %}\n    {%- if messages[0]['role'] == 'system' %}\n"
            + "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
            + "    {%- else %}\n        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a"
            + " helpful assistant.<|im_end|>\\n' }}\n    {%- endif %}\n{%- endif %}\n";
    static final String CHATML_JINJA = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' +"
            + " message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
            + "{{ '<|im_start|>assistant\\n' }}{% endif %}";
    static final String ZEPHYR_JINJA = "{% for message in messages %}\n{% if message['role'] == 'user' %}\n"
            + "{{ '<|user|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n"
            + "{{ '<|system|>\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n"
            + "{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n"
            + "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

    static final List<ChatMessage> CONVERSATION = List.of(
            system("You are a storyteller."), user("Tell me a story."), assistant(" Once upon a time... "),
            user("  Another one, please!\n"));

    @Test
    void detectsFamilies() {
        assertThat(ChatTemplate.detect(null)).isEqualTo(new ChatTemplate.Plain());
        assertThat(ChatTemplate.detect("  ")).isEqualTo(new ChatTemplate.Plain());
        assertThat(ChatTemplate.detect(LLAMA2_JINJA)).isEqualTo(new ChatTemplate.Llama2());
        assertThat(ChatTemplate.detect(LLAMA3_JINJA)).isEqualTo(new ChatTemplate.Llama3(null));
        assertThat(ChatTemplate.detect(LLAMA31_JINJA)).isEqualTo(new ChatTemplate.Llama3("26 Jul 2024"));
        assertThat(ChatTemplate.detect(CHATML_JINJA)).isEqualTo(new ChatTemplate.ChatMl(null));
        assertThat(ChatTemplate.detect(SMOLLM2_JINJA)).isEqualTo(new ChatTemplate.ChatMl(
                "You are a helpful AI assistant named SmolLM, trained by Hugging Face"));
        assertThat(ChatTemplate.detect(QWEN_JINJA)).isEqualTo(new ChatTemplate.ChatMl(
                "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."));
        assertThat(ChatTemplate.detect(ZEPHYR_JINJA)).isEqualTo(new ChatTemplate.Zephyr("</s>"));
    }

    @Test
    void rejectsUnknownFamilies() {
        String gemma = "{{ bos_token }}{% for message in messages %}{{ '<start_of_turn>' + role + '\\n' }}{% endfor %}";
        assertThat(ChatTemplate.recognize(gemma)).isEmpty();
        assertThatThrownBy(() -> ChatTemplate.detect(gemma)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unsupported chat template").hasMessageContaining("<start_of_turn>");
    }

    @Test
    void llama2() {
        var t = new ChatTemplate.Llama2();
        assertThat(t.render(CONVERSATION, true)).isEqualTo(
                "<s>[INST] <<SYS>>\nYou are a storyteller.\n<</SYS>>\n\nTell me a story. [/INST]"
                        + " Once upon a time... </s>"
                        + "<s>[INST] Another one, please! [/INST]");
        assertThat(t.render(List.of(user("Hi"), assistant("Hello."), user("Bye")), false))
                .isEqualTo("<s>[INST] Hi [/INST] Hello. </s><s>[INST] Bye [/INST]");
        assertThat(t.rendersBos()).isTrue();
        assertThat(t.stopStrings()).containsExactly("</s>");
        assertThatThrownBy(() -> t.render(List.of(user("a"), user("b")), true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("alternate")
                .hasMessageContaining("message 1 is user");
        assertThatThrownBy(() -> t.render(List.of(assistant("a")), true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("message 0 is assistant");
    }

    @Test
    void llama3() {
        var t = new ChatTemplate.Llama3(null);
        assertThat(t.render(CONVERSATION, true)).isEqualTo("<|begin_of_text|>"
                + "<|start_header_id|>system<|end_header_id|>\n\nYou are a storyteller.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nTell me a story.<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nOnce upon a time...<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nAnother one, please!<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n");
        assertThat(t.render(List.of(user("Hi")), false))
                .isEqualTo("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>");
        assertThat(t.rendersBos()).isTrue();
        assertThat(t.stopStrings()).containsExactly("<|eot_id|>");
    }

    @Test
    void llama31AlwaysOpensWithItsSystemHeader() {
        var t = new ChatTemplate.Llama3(ChatTemplate.Llama3.DEFAULT_DATE);
        String header = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                + "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n";
        assertThat(t.render(CONVERSATION, true)).isEqualTo(header + "You are a storyteller.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nTell me a story.<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\nOnce upon a time...<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nAnother one, please!<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n");
        assertThat(t.render(List.of(user("Hi")), true)).isEqualTo(header + "<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                + "<|start_header_id|>assistant<|end_header_id|>\n\n");
    }

    @Test
    void chatMl() {
        var t = new ChatTemplate.ChatMl(null);
        assertThat(t.render(CONVERSATION, true)).isEqualTo(
                "<|im_start|>system\nYou are a storyteller.<|im_end|>\n"
                        + "<|im_start|>user\nTell me a story.<|im_end|>\n"
                        + "<|im_start|>assistant\n Once upon a time... <|im_end|>\n"
                        + "<|im_start|>user\n  Another one, please!\n<|im_end|>\n"
                        + "<|im_start|>assistant\n");
        assertThat(t.rendersBos()).isFalse();
        assertThat(t.stopStrings()).containsExactly("<|im_end|>");
    }

    @Test
    void chatMlWithADefaultSystemMessage() {
        var t = ChatTemplate.detect(SMOLLM2_JINJA);
        assertThat(t.render(List.of(user("Hi")), true)).isEqualTo(
                "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
                        + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
        assertThat(t.render(List.of(system("Be brief."), user("Hi")), false)).isEqualTo(
                "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n");
    }

    @Test
    void zephyr() {
        var t = new ChatTemplate.Zephyr("</s>");
        assertThat(t.render(CONVERSATION, true)).isEqualTo(
                "<|system|>\nYou are a storyteller.</s>\n"
                        + "<|user|>\nTell me a story.</s>\n"
                        + "<|assistant|>\n Once upon a time... </s>\n"
                        + "<|user|>\n  Another one, please!\n</s>\n"
                        + "<|assistant|>\n");
        assertThat(t.render(List.of(user("Hi")), false)).isEqualTo("<|user|>\nHi</s>\n");
        assertThat(t.rendersBos()).isFalse();
        assertThat(t.stopStrings()).containsExactly("</s>");
    }

    @Test
    void plainConcatenatesContents() {
        var t = new ChatTemplate.Plain();
        assertThat(t.render(List.of(system("Lily "), user("Once upon a time")), true))
                .isEqualTo("Lily Once upon a time");
        assertThat(t.rendersBos()).isFalse();
        assertThat(t.stopStrings()).isEmpty();
    }

    @Test
    void renderedBosBecomesExactlyOneBosToken() throws IOException {
        Tokenizer tokenizer;
        try (var gguf = GgufFile.open(TestModels.stories260K())) {
            tokenizer = Tokenizers.fromGguf(gguf);
        }
        for (ChatTemplate t : List.of(new ChatTemplate.Llama2(), new ChatTemplate.Plain())) {
            String prompt = t.render(List.of(user("Once upon a time")), true);
            int[] tokens = tokenizer.encode(prompt, !t.rendersBos(), true);
            assertThat(tokens[0]).as(t.toString()).isEqualTo(tokenizer.bos());
            assertThat(tokens[1]).as(t.toString()).isNotEqualTo(tokenizer.bos());
            assertThat(java.util.Arrays.stream(tokens).filter(id -> id == tokenizer.bos()).count()).isEqualTo(1);
        }
    }

    @Test
    void messagesValidateThemselves() {
        assertThatThrownBy(() -> new ChatMessage(null, "x")).isInstanceOf(NullPointerException.class);
        assertThatThrownBy(() -> new ChatMessage(ChatMessage.Role.USER, null)).isInstanceOf(NullPointerException.class);
        assertThat(ChatMessage.Role.ASSISTANT.wireName()).isEqualTo("assistant");
    }
}
