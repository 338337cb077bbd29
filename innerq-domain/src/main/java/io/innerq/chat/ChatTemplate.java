package io.innerq.chat;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a chat model wants a conversation written as one prompt. Each family reproduces the text its official Jinja
 * template renders (with Hugging Face's {@code trim_blocks}); the Jinja source is only inspected for tell-tale
 * strings by {@link #detect(String)}, never executed.
 *
 * <p>When {@link #rendersBos()} is true the rendered text already starts with the BOS text: encode it with
 * {@code addBos = false} and {@code parseSpecial = true} so it becomes the BOS token exactly once.
 */
public sealed interface ChatTemplate {

    /** The prompt for {@code messages}; with {@code addGenerationPrompt} it ends where the assistant's reply begins. */
    String render(List<ChatMessage> messages, boolean addGenerationPrompt);

    /** Whether {@link #render} writes the BOS text itself. */
    boolean rendersBos();

    /** Text that ends the assistant's turn should the model spell it out instead of emitting the token. */
    List<String> stopStrings();

    /**
     * The template family of a {@code tokenizer.chat_template}; {@link Plain} when the model has none.
     *
     * @throws IllegalArgumentException for a template of an unsupported family
     */
    static ChatTemplate detect(String jinjaOrNull) {
        return recognize(jinjaOrNull).orElseThrow(() -> new IllegalArgumentException(
                "unsupported chat template (tokenizer.chat_template): InnerQ recognizes Llama 2 ([INST]), Llama 3"
                        + " (<|start_header_id|>), ChatML (<|im_start|>) and Zephyr (<|user|>) templates; it begins: "
                        + abbreviate(jinjaOrNull)));
    }

    /** Like {@link #detect(String)}, empty for an unsupported family. */
    static Optional<ChatTemplate> recognize(String jinjaOrNull) {
        if (jinjaOrNull == null || jinjaOrNull.isBlank()) {
            return Optional.of(new Plain());
        }
        String t = jinjaOrNull;
        if (t.contains("<|start_header_id|>")) {
            return Optional.of(new Llama3(t.contains("Cutting Knowledge Date") ? Llama3.DEFAULT_DATE : null));
        }
        if (t.contains("<|im_start|>")) {
            return Optional.of(new ChatMl(ChatMl.defaultSystemIn(t)));
        }
        if (t.contains("<|user|>") && t.contains("<|assistant|>") && !t.contains("<|end|>")) {
            boolean literalEndOfText = t.contains("<|endoftext|>") && !t.contains("eos_token");
            return Optional.of(new Zephyr(literalEndOfText ? "<|endoftext|>" : "</s>"));
        }
        if (t.contains("[INST]")) {
            return Optional.of(new Llama2());
        }
        return Optional.empty();
    }

    private static String abbreviate(String text) {
        String oneLine = text.replace('\n', ' ');
        return oneLine.length() <= 80 ? oneLine : oneLine.substring(0, 80) + "...";
    }

    /** Python's {@code str.strip()}, which Jinja's {@code trim} filter and Llama 2's {@code .strip()} call. */
    private static String strip(String s) {
        int from = 0, to = s.length();
        while (from < to && isPythonSpace(s.charAt(from))) {
            from++;
        }
        while (to > from && isPythonSpace(s.charAt(to - 1))) {
            to--;
        }
        return s.substring(from, to);
    }

    private static boolean isPythonSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    /**
     * Llama 2 chat: {@code <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s><s>[INST] ...}.
     * Roles must alternate user, assistant, ... after an optional leading system message; user and assistant text is
     * stripped. The template has no generation prompt: the text after {@code [/INST]} is where the reply goes.
     */
    record Llama2() implements ChatTemplate {

        @Override
        public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            if (messages.isEmpty()) {
                throw new IllegalArgumentException("the Llama 2 chat template needs at least one message");
            }
            String system = messages.getFirst().role() == ChatMessage.Role.SYSTEM ? messages.getFirst().content() : null;
            List<ChatMessage> turns = system == null ? messages : messages.subList(1, messages.size());
            var out = new StringBuilder();
            for (int i = 0; i < turns.size(); i++) {
                ChatMessage m = turns.get(i);
                ChatMessage.Role expected = i % 2 == 0 ? ChatMessage.Role.USER : ChatMessage.Role.ASSISTANT;
                if (m.role() != expected) {
                    throw new IllegalArgumentException(("Llama 2 conversations must alternate user/assistant after an"
                            + " optional system message; message %d is %s").formatted(
                            i + (system == null ? 0 : 1), m.role().wireName()));
                }
                String content = i == 0 && system != null
                        ? "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + m.content() : m.content();
                if (m.role() == ChatMessage.Role.USER) {
                    out.append("<s>[INST] ").append(strip(content)).append(" [/INST]");
                } else {
                    out.append(' ').append(strip(content)).append(" </s>");
                }
            }
            return out.toString();
        }

        @Override
        public boolean rendersBos() {
            return true;
        }

        @Override
        public List<String> stopStrings() {
            return List.of("</s>");
        }
    }

    /**
     * Llama 3 instruct: {@code <|begin_of_text|>} then {@code <|start_header_id|>{role}<|end_header_id|>\n\n
     * {content, trimmed}<|eot_id|>} per message. Llama 3.1 and later templates always open with a system header that
     * states the knowledge cut-off and {@code todayDate}; {@code todayDate} is null for the Llama 3.0 form.
     */
    record Llama3(String todayDate) implements ChatTemplate {

        /** The date Llama 3.1's template writes when the caller gives none. */
        public static final String DEFAULT_DATE = "26 Jul 2024";

        @Override
        public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            var out = new StringBuilder("<|begin_of_text|>");
            List<ChatMessage> rest = messages;
            if (todayDate != null) {
                String system = "";
                if (!messages.isEmpty() && messages.getFirst().role() == ChatMessage.Role.SYSTEM) {
                    system = strip(messages.getFirst().content());
                    rest = messages.subList(1, messages.size());
                }
                out.append("<|start_header_id|>system<|end_header_id|>\n\n")
                        .append("Cutting Knowledge Date: December 2023\n")
                        .append("Today Date: ").append(todayDate).append("\n\n")
                        .append(system).append("<|eot_id|>");
            }
            for (ChatMessage m : rest) {
                out.append("<|start_header_id|>").append(m.role().wireName()).append("<|end_header_id|>\n\n")
                        .append(strip(m.content())).append("<|eot_id|>");
            }
            if (addGenerationPrompt) {
                out.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
            }
            return out.toString();
        }

        @Override
        public boolean rendersBos() {
            return true;
        }

        @Override
        public List<String> stopStrings() {
            return List.of("<|eot_id|>");
        }
    }

    /**
     * ChatML: {@code <|im_start|>{role}\n{content}<|im_end|>\n} per message, {@code <|im_start|>assistant\n} as
     * generation prompt. Templates such as SmolLM2's and Qwen2.5's insert {@code defaultSystem} when the conversation
     * does not start with a system message; null when the template has none.
     */
    record ChatMl(String defaultSystem) implements ChatTemplate {

        private static final Pattern DEFAULT_SYSTEM =
                Pattern.compile("<\\|im_start\\|>system(?:\\n|\\\\n)([^'\"{}<]*)<\\|im_end\\|>");

        /** The literal default system message of a ChatML template, if it writes one. */
        static String defaultSystemIn(String jinja) {
            Matcher m = DEFAULT_SYSTEM.matcher(jinja);
            return m.find() ? m.group(1).replace("\\n", "\n") : null;
        }

        @Override
        public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            var out = new StringBuilder();
            if (defaultSystem != null && !messages.isEmpty()
                    && messages.getFirst().role() != ChatMessage.Role.SYSTEM) {
                turn(out, "system", defaultSystem);
            }
            for (ChatMessage m : messages) {
                turn(out, m.role().wireName(), m.content());
            }
            if (addGenerationPrompt) {
                out.append("<|im_start|>assistant\n");
            }
            return out.toString();
        }

        private static void turn(StringBuilder out, String role, String content) {
            out.append("<|im_start|>").append(role).append('\n').append(content).append("<|im_end|>\n");
        }

        @Override
        public boolean rendersBos() {
            return false;
        }

        @Override
        public List<String> stopStrings() {
            return List.of("<|im_end|>");
        }
    }

    /**
     * Zephyr (and TinyLlama chat): {@code <|{role}|>\n{content}{endOfTurn}\n} per message, {@code <|assistant|>\n} as
     * generation prompt. {@code endOfTurn} is the EOS text, "</s>" for Zephyr-7B and TinyLlama.
     */
    record Zephyr(String endOfTurn) implements ChatTemplate {

        public Zephyr {
            Objects.requireNonNull(endOfTurn, "endOfTurn");
        }

        @Override
        public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            var out = new StringBuilder();
            for (ChatMessage m : messages) {
                out.append("<|").append(m.role().wireName()).append("|>\n").append(m.content()).append(endOfTurn)
                        .append('\n');
            }
            if (addGenerationPrompt) {
                out.append("<|assistant|>\n");
            }
            return out.toString();
        }

        @Override
        public boolean rendersBos() {
            return false;
        }

        @Override
        public List<String> stopStrings() {
            return List.of(endOfTurn);
        }
    }

    /** Base models without a chat template (stories260K): the contents, concatenated. */
    record Plain() implements ChatTemplate {

        @Override
        public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
            var out = new StringBuilder();
            for (ChatMessage m : messages) {
                out.append(m.content());
            }
            return out.toString();
        }

        @Override
        public boolean rendersBos() {
            return false;
        }

        @Override
        public List<String> stopStrings() {
            return List.of();
        }
    }
}
