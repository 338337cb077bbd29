package io.innerq.server;

import io.innerq.serving.InnerqEngine;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import tools.jackson.core.StreamWriteConstraints;
import tools.jackson.core.json.JsonFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiFunction;

import static io.innerq.server.InnerqServiceTest.TEST_KEY;
import static io.innerq.server.OpenAiErrorShape.assertOpenAiError;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Seeded mutations of valid chat and completion bodies, sent to the running service over HTTP: JSON syntax broken,
 * values swapped for other JSON types, huge and negative numbers, unicode, deep nesting, fields removed and added,
 * huge strings within (and just over) the body limit, cache modes. Every answer must be a success of OpenAI's shape
 * or an OpenAI error (no 5xx, no error event in a stream, no name of the implementation in a message); after each,
 * the engine must be idle (no generation, no KV bytes, every slot free), and after all a valid request must still be
 * answered.
 *
 * <p>{@code -Dinnerq.mutations=N} sets the number of mutations (default {@value #DEFAULT_MUTATIONS}, about 15 s on two cores),
 * {@code -Dinnerq.mutations.seed=S} the seed. Mutation {@code i} draws from its own generator
 * ({@code seed * 1_000_003 + i}), so {@code -Dinnerq.mutations.only=i} replays one alone.
 */
@InnerqServiceTest
class OpenAiRequestMutationTests {

    private static final int DEFAULT_MUTATIONS = 2000;
    private static final int MUTATIONS = Integer.getInteger("innerq.mutations", DEFAULT_MUTATIONS);
    private static final long SEED = Long.getLong("innerq.mutations.seed", 20261207L);
    private static final int ONLY = Integer.getInteger("innerq.mutations.only", -1);

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** Writes the mutated trees, deep ones included (the service reads at most 500 levels). */
    private static final JsonMapper WRITER = JsonMapper.builder(JsonFactory.builder()
            .streamWriteConstraints(StreamWriteConstraints.builder().maxNestingDepth(50_000).build()).build()).build();

    /** Valid bodies, each generating at most 3 tokens. */
    private static final List<Map.Entry<String, String>> BASES = List.of(
            Map.entry("/v1/chat/completions", """
                    {"messages": [{"role": "user", "content": "Once upon a time"}], "max_tokens": 2}"""),
            Map.entry("/v1/chat/completions", """
                    {"model": "stories260K", "messages": [{"role": "system", "content": "Tell a story."},
                     {"role": "user", "content": "Once upon a time"}, {"role": "assistant", "content": "there"},
                     {"role": "user", "content": [{"type": "text", "text": "was a"}]}],
                     "max_tokens": 3, "temperature": 0.8, "top_p": 0.9, "top_k": 40, "min_p": 0.05,
                     "repeat_penalty": 1.1, "seed": 7, "stop": ["\\n", "The end"], "n": 1,
                     "presence_penalty": 0, "frequency_penalty": 0, "kv_cache_mode": "innerq-small",
                     "user": "u-1", "logprobs": false}"""),
            Map.entry("/v1/chat/completions", """
                    {"messages": [{"role": "user", "content": "Lily"}], "max_completion_tokens": 2,
                     "stream": true, "stream_options": {"include_usage": true}, "temperature": 0}"""),
            Map.entry("/v1/completions", """
                    {"prompt": "Once upon a time", "max_tokens": 2, "temperature": 0}"""),
            Map.entry("/v1/completions", """
                    {"model": "stories260K", "prompt": ["Once upon a time"], "max_tokens": 3, "echo": true,
                     "stop": "The end", "seed": 3, "top_p": 0.5, "kv_cache_mode": "fp32", "best_of": 1}"""),
            Map.entry("/v1/completions", """
                    {"prompt": "The cat", "max_tokens": 2, "stream": true, "repetition_penalty": 1.2}"""));

    /** Fields whose removal or null would let a generation run to the end of the context. */
    private static final Set<String> TOKEN_LIMITS = Set.of("max_tokens", "max_completion_tokens");

    private static final List<String> FIELD_NAMES = List.of("model", "messages", "prompt", "stream", "stream_options",
            "include_usage", "include_obfuscation", "max_tokens", "max_completion_tokens", "temperature", "top_p",
            "top_k", "min_p", "repeat_penalty", "repetition_penalty", "seed", "stop", "n", "kv_cache_mode", "echo",
            "best_of", "suffix", "logprobs", "top_logprobs", "frequency_penalty", "presence_penalty", "logit_bias",
            "tools", "tool_choice", "functions", "function_call", "response_format", "user", "store", "metadata",
            "service_tier", "modalities", "audio", "prediction", "reasoning_effort", "verbosity",
            "web_search_options", "parallel_tool_calls", "name", "tool_calls", "role", "content", "type", "text",
            "foo", "Max_Tokens", "cache_prompt", "n_predict", "others", "", "\u00e9t\u00e9", "\ud83e\udd99",
            "k".repeat(5000), "max_tokens\u0000");

    private static final List<String> STRINGS = List.of("", "x", "Once upon a time", "user", "assistant", "system",
            "text", "image_url", "auto", "none", "required", "stories260K", "gpt-4o", "fp32", "\ud83d\ude00\ud83e\udd99",
            "\u202eabc", "\u0000", "\ud800", "\udc00x", "\u2581\u2581", "\ufeff", "e\u0301", "\u65e5\u672c\u8a9e",
            "\uffff\ufffe", "<s></s><|endoftext|>", "\u2028\u2029", "\u03a9".repeat(1000), "NaN", "Infinity", "1",
            "true", "null", "{}", "/etc/passwd", "../x.gguf");

    private static final List<String> KV_MODES = List.of("fp32", "fp16", "q8_0", "kivi-2", "kivi-4", "kivi-9",
            "innerq-base", "innerq-small", "innerq-hybrid", "innerq-4", "innerq:k3,v2h,g8,s4,r8,norm", "innerq:k9",
            "innerq:g0", "innerq:k3,v2,g7", "innerq:k99999999999", "innerq:", "innerq:k3,k3", "INNERQ-SMALL", " fp32 ",
            "q8", "");

    /** Characters JSON is made of, and a few it is not. */
    private static final String JSON_CHARS = "{}[],:\"\\ 0123456789-.eEtfn/'\t\n";

    private static final List<String> HUGE_NUMBERS = List.of("1e308", "1E+400", "-1e400", "9223372036854775808",
            "-9223372036854775809", "2147483648", "99999999999999999999999999", "4.9e-324", "1e-400",
            "123456789012345678901234567890.5", "1".repeat(1100), "2049", "2147483647", "0.0000000000000000001");

    @LocalServerPort
    int port;

    @Autowired
    InnerqEngine engine;

    /** One mutation: what it did, and the body sent. */
    private record Mutant(String path, List<String> operators, byte[] body) {
        String describe() {
            String text = new String(body, StandardCharsets.UTF_8);
            return "%s %s, %d bytes: %s".formatted(path, operators, body.length,
                    text.length() > 300 ? text.substring(0, 300) + "..." : text);
        }
    }

    @Test
    void mutatedBodiesGetAnAnswerOrAnOpenAiErrorAndTheServiceStaysWhole() throws Exception {
        var http = new Http(port);
        var statuses = new TreeMap<Integer, Integer>();
        var codes = new TreeMap<String, Integer>();
        var operators = new TreeMap<String, Integer>();
        var millis = new ArrayList<Double>();
        long start = System.nanoTime();
        int from = ONLY >= 0 ? ONLY : 0;
        int to = ONLY >= 0 ? ONLY + 1 : MUTATIONS;
        for (int i = from; i < to; i++) {
            Mutant m = mutate(new Random(SEED * 1_000_003L + i));
            long sent = System.nanoTime();
            Http.Response r = http.send("POST", m.path(), "application/json", null, m.body(), TEST_KEY);
            millis.add((System.nanoTime() - sent) / 1e6);
            try {
                String code = check(r);
                codes.merge(code, 1, Integer::sum);
                EngineState.awaitIdle(engine, Duration.ofSeconds(5));
            } catch (AssertionError e) {
                throw new AssertionError("mutation %d (replay: -Dinnerq.mutations.seed=%d -Dinnerq.mutations.only=%d) "
                        .formatted(i, SEED, i) + m.describe() + "\nanswered " + r.status() + ": "
                        + (r.body().length() > 2000 ? r.body().substring(0, 2000) : r.body()), e);
            }
            statuses.merge(r.status(), 1, Integer::sum);
            m.operators().forEach(o -> operators.merge(o, 1, Integer::sum));
        }
        double seconds = (System.nanoTime() - start) / 1e9;

        var valid = http.post("/v1/chat/completions", BASES.getFirst().getValue(), TEST_KEY);
        assertThat(valid.status()).as(valid.body()).isEqualTo(200);
        assertThat(valid.json().path("choices").get(0).path("message").path("content").asString()).isNotEmpty();
        EngineState.awaitIdle(engine, Duration.ofSeconds(5));
        EngineState.assertIdleInPrometheus(http, engine.settings().concurrency());
        ClientFaultTests.report("request mutations: %d (seed %d) in %.1f s, %.0f requests/s; latency p50 %.1f ms, "
                        + "p99 %.1f ms, max %.1f ms; statuses %s; codes %s; operators %s", to - from, SEED, seconds,
                (to - from) / seconds, ClientFaultTests.percentile(millis, 50), ClientFaultTests.percentile(millis, 99),
                ClientFaultTests.percentile(millis, 100), statuses, codes, operators);
    }

    /** Asserts that {@code r} is an answer of OpenAI's shape; returns the error code, or "ok"/"stream". */
    private static String check(Http.Response r) {
        assertThat(r.status()).as("a 5xx").isLessThan(500);
        String type = r.raw().headers().firstValue("Content-Type").orElse("");
        if (r.status() != 200) {
            JsonNode error = assertOpenAiError(r, r.status());
            return r.status() + " " + (error.path("code").isNull() ? "-" : error.path("code").asString());
        }
        if (type.startsWith("text/event-stream")) {
            List<String> events = r.events();
            assertThat(events).isNotEmpty();
            assertThat(events.getLast()).isEqualTo("[DONE]");
            for (String e : events.subList(0, events.size() - 1)) {
                JsonNode chunk = Http.JSON.readTree(e);
                assertThat(chunk.has("error")).as("an error event: %s", e).isFalse();
                assertThat(chunk.path("object").asString()).isIn("chat.completion.chunk", "text_completion");
            }
            return "200 stream";
        }
        assertThat(type).startsWith("application/json");
        JsonNode json = r.json();
        assertThat(json.path("object").asString()).isIn("chat.completion", "text_completion");
        assertThat(json.path("choices").size()).isEqualTo(1);
        return "200";
    }

    /** One to three operators applied to one of {@link #BASES}: tree operators first, then maybe one on the bytes. */
    private static Mutant mutate(Random random) {
        var base = BASES.get(random.nextInt(BASES.size()));
        var tree = (ObjectNode) Http.JSON.readTree(base.getValue());
        var applied = new ArrayList<String>();
        int treeOperators = 1 + (random.nextInt(3) == 0 ? 1 : 0) + (random.nextInt(6) == 0 ? 1 : 0);
        boolean bytes = random.nextInt(3) == 0;
        if (bytes) {
            treeOperators--;
        }
        for (int k = 0; k < treeOperators; k++) {
            var op = TREE_OPERATORS.get(random.nextInt(TREE_OPERATORS.size()));
            applied.add(op.getKey());
            op.getValue().apply(tree, random);
        }
        byte[] body = WRITER.writeValueAsString(tree).getBytes(StandardCharsets.UTF_8);
        if (bytes) {
            var op = BYTE_OPERATORS.get(random.nextInt(BYTE_OPERATORS.size()));
            applied.add(op.getKey());
            body = op.getValue().apply(body, random);
        }
        return new Mutant(base.getKey(), applied, body);
    }

    @FunctionalInterface
    private interface TreeOperator {
        void apply(ObjectNode tree, Random random);
    }

    /** A place in a tree: an object's field or an array's element. */
    private record Slot(JsonNode parent, String field, int index) {
        JsonNode get() {
            return field != null ? parent.get(field) : parent.get(index);
        }

        void set(JsonNode value) {
            if (field != null) {
                ((ObjectNode) parent).set(field, value);
            } else {
                ((ArrayNode) parent).set(index, value);
            }
        }

        void remove() {
            if (field != null) {
                ((ObjectNode) parent).remove(field);
            } else {
                ((ArrayNode) parent).remove(index);
            }
        }

        boolean isTokenLimit() {
            return field != null && TOKEN_LIMITS.contains(field);
        }
    }

    private static List<Slot> slots(JsonNode node, List<Slot> out) {
        if (node.isObject()) {
            for (String name : List.copyOf(node.propertyNames())) {
                out.add(new Slot(node, name, -1));
                slots(node.get(name), out);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                out.add(new Slot(node, null, i));
                slots(node.get(i), out);
            }
        }
        return out;
    }

    private static Slot anySlot(ObjectNode tree, Random random) {
        List<Slot> all = slots(tree, new ArrayList<>());
        return all.get(random.nextInt(all.size()));
    }

    /** A container of the tree (the tree itself, an object or an array inside it). */
    private static JsonNode anyContainer(ObjectNode tree, Random random) {
        var containers = new ArrayList<JsonNode>();
        containers.add(tree);
        for (Slot s : slots(tree, new ArrayList<>())) {
            if (s.get().isContainer()) {
                containers.add(s.get());
            }
        }
        return containers.get(random.nextInt(containers.size()));
    }

    private static JsonNode anyValue(Random random) {
        return switch (random.nextInt(14)) {
            case 0 -> NODES.stringNode(STRINGS.get(random.nextInt(STRINGS.size())));
            case 1 -> NODES.numberNode(random.nextInt(5) - 1);
            case 2 -> NODES.numberNode(List.of(0.5, 1.5, -0.0, 0.999, 2.0).get(random.nextInt(5)));
            case 3 -> NODES.booleanNode(random.nextBoolean());
            case 4 -> NODES.nullNode();
            case 5 -> NODES.objectNode();
            case 6 -> NODES.arrayNode();
            case 7 -> NODES.arrayNode().add(1).add("a");
            case 8 -> NODES.objectNode().put("a", 1);
            case 9 -> NODES.objectNode().put("type", "text").put("text", "hi");
            case 10 -> NODES.objectNode().put("role", "user").put("content", "hi");
            case 11 -> NODES.arrayNode().add(NODES.objectNode().put("role", "user").put("content", "x"));
            case 12 -> hugeNumber(random);
            default -> NODES.stringNode(KV_MODES.get(random.nextInt(KV_MODES.size())));
        };
    }

    private static JsonNode hugeNumber(Random random) {
        String n = HUGE_NUMBERS.get(random.nextInt(HUGE_NUMBERS.size()));
        return n.contains(".") || n.contains("e") || n.contains("E") ? NODES.numberNode(new BigDecimal(n))
                : NODES.numberNode(new BigInteger(n));
    }

    private static JsonNode nested(Random random) {
        int depth = List.of(2, 50, 400, 498, 501, 3000).get(random.nextInt(6));
        boolean arrays = random.nextBoolean();
        JsonNode node = NODES.numberNode(1);
        for (int d = 0; d < depth; d++) {
            node = arrays ? NODES.arrayNode().add(node) : NODES.objectNode().set("a", node);
        }
        return node;
    }

    private static final List<Map.Entry<String, TreeOperator>> TREE_OPERATORS = List.of(
            Map.entry("type-swap", (tree, random) -> {
                Slot s = anySlot(tree, random);
                JsonNode v = anyValue(random);
                if (!(s.isTokenLimit() && v.isNull())) {
                    s.set(v);
                }
            }),
            Map.entry("huge-number", (tree, random) -> anySlot(tree, random).set(hugeNumber(random))),
            Map.entry("negative", (tree, random) -> {
                Slot s = anySlot(tree, random);
                JsonNode v = s.get();
                s.set(v.isNumber() ? NODES.numberNode(v.decimalValue().negate())
                        : NODES.numberNode(List.of(-1L, Long.MIN_VALUE, -2147483649L).get(random.nextInt(3))));
            }),
            Map.entry("unicode", (tree, random) -> {
                String u = STRINGS.get(14 + random.nextInt(STRINGS.size() - 14)); // from the emoji on
                if (random.nextBoolean()) {
                    anySlot(tree, random).set(NODES.stringNode(u));
                } else {
                    JsonNode c = anyContainer(tree, random);
                    if (c.isObject()) {
                        ((ObjectNode) c).put(u, "x");
                    } else {
                        ((ArrayNode) c).add(u);
                    }
                }
            }),
            Map.entry("deep-nesting", (tree, random) -> {
                Slot s = anySlot(tree, random);
                if (!s.isTokenLimit()) {
                    s.set(nested(random));
                }
            }),
            Map.entry("missing-field", (tree, random) -> {
                Slot s = anySlot(tree, random);
                if (!s.isTokenLimit()) {
                    s.remove();
                }
            }),
            Map.entry("extra-field", (tree, random) -> {
                JsonNode c = anyContainer(tree, random);
                String name = FIELD_NAMES.get(random.nextInt(FIELD_NAMES.size()));
                if (c.isObject() && !TOKEN_LIMITS.contains(name)) {
                    ((ObjectNode) c).set(name, anyValue(random));
                } else if (c.isArray()) {
                    ((ArrayNode) c).add(anyValue(random));
                }
            }),
            Map.entry("kv-mode", (tree, random) ->
                    tree.put("kv_cache_mode", KV_MODES.get(random.nextInt(KV_MODES.size())))),
            Map.entry("huge-string", (tree, random) -> {
                if (random.nextInt(4) != 0) {
                    return; // a quarter as often as the others: each costs up to a megabyte
                }
                int length = List.of(100_000, 262_145, 600_000, 1_048_000, 1_100_000).get(random.nextInt(5));
                String text = "Once upon a time ".repeat(length / 17 + 1).substring(0, length);
                Slot s = anySlot(tree, random);
                if (s.get().isString()) {
                    s.set(NODES.stringNode(text));
                } else {
                    tree.put("user", text);
                }
            }));

    private static final List<Map.Entry<String, BiFunction<byte[], Random, byte[]>>> BYTE_OPERATORS = List.of(
            Map.entry("delete-byte", (b, random) -> splice(b, random.nextInt(b.length), 1, new byte[0])),
            Map.entry("insert-char", (b, random) -> splice(b, random.nextInt(b.length + 1), 0,
                    new byte[]{(byte) JSON_CHARS.charAt(random.nextInt(JSON_CHARS.length()))})),
            Map.entry("insert-byte", (b, random) -> splice(b, random.nextInt(b.length + 1), 0,
                    new byte[]{(byte) random.nextInt(256)})),
            Map.entry("invalid-utf8", (b, random) -> splice(b, random.nextInt(b.length + 1), 0,
                    List.of(new byte[]{(byte) 0xff}, new byte[]{(byte) 0xc0, (byte) 0xaf},
                            new byte[]{(byte) 0xed, (byte) 0xa0, (byte) 0x80}, new byte[]{(byte) 0x80},
                            new byte[]{(byte) 0xf8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80},
                            new byte[]{(byte) 0xe2, (byte) 0x82}).get(random.nextInt(6)))),
            Map.entry("control-char", (b, random) -> splice(b, random.nextInt(b.length + 1), 0,
                    new byte[]{(byte) List.of(0, 1, 8, 11, 12, 27, 127).get(random.nextInt(7)).intValue()})),
            Map.entry("truncate", (b, random) -> splice(b, random.nextInt(b.length), b.length, new byte[0])),
            Map.entry("duplicate-slice", (b, random) -> {
                int at = random.nextInt(b.length);
                int length = Math.min(b.length - at, 1 + random.nextInt(40));
                byte[] slice = new byte[length];
                System.arraycopy(b, at, slice, 0, length);
                return splice(b, at, 0, slice);
            }),
            Map.entry("swap-bytes", (b, random) -> {
                byte[] c = b.clone();
                int x = random.nextInt(c.length);
                int y = random.nextInt(c.length);
                byte t = c[x];
                c[x] = c[y];
                c[y] = t;
                return c;
            }),
            Map.entry("trailing-garbage", (b, random) -> splice(b, b.length, 0, List.of("x", "{}", " []", ",",
                    "\u0000", " /* */", "}").get(random.nextInt(7)).getBytes(StandardCharsets.UTF_8))),
            Map.entry("escaped-surrogates", (b, random) -> new String(b, StandardCharsets.UTF_8)
                    .replace("Once", List.of("\\ud800Once", "\\udc00\\u0000Once", "\\uD83DOnce\\u0000", "\\u00")
                            .get(random.nextInt(4))).getBytes(StandardCharsets.UTF_8)),
            Map.entry("bom", (b, random) -> splice(b, 0, 0, new byte[]{(byte) 0xef, (byte) 0xbb, (byte) 0xbf})),
            Map.entry("single-quotes", (b, random) -> new String(b, StandardCharsets.UTF_8).replace('"', '\'')
                    .getBytes(StandardCharsets.UTF_8)),
            Map.entry("duplicate-key", (b, random) -> splice(b, 1, 0,
                    "\"max_tokens\": 1, ".getBytes(StandardCharsets.UTF_8))),
            Map.entry("other-body", (b, random) -> List.of("", " ", "null", "[]", "true", "42", "\"x\"", "{",
                    "}", "{}", "[{}]", "{\"\":\"\"}").get(random.nextInt(12)).getBytes(StandardCharsets.UTF_8)));

    private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        var out = new ByteArrayOutputStream(b.length + insert.length);
        out.write(b, 0, at);
        out.writeBytes(insert);
        int rest = Math.min(b.length, at + remove);
        out.write(b, rest, b.length - rest);
        return out.toByteArray();
    }
}
