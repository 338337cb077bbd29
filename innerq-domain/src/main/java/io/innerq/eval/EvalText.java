package io.innerq.eval;

import io.innerq.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;

/**
 * Cuts a text into evaluation windows: token sequences that begin with BOS and hold at most
 * {@code contextLength + 1} tokens (the last token is only predicted, never fed).
 */
public final class EvalText {

    /** The separator between documents in the held-out files. */
    public static final String DOCUMENT_SEPARATOR = "<|endoftext|>";

    private EvalText() {
    }

    /**
     * Each document on its own, as {@code [BOS] + text}, cut after {@code contextLength} text tokens (so every
     * position the model sees is inside its context).
     */
    public static List<int[]> documents(Tokenizer tokenizer, String text, int contextLength, int maxWindows) {
        var windows = new ArrayList<int[]>();
        for (String doc : text.split(java.util.regex.Pattern.quote(DOCUMENT_SEPARATOR))) {
            String body = doc.strip();
            if (body.isEmpty()) {
                continue;
            }
            int[] tokens = tokenizer.encode(body, false, false);
            windows.add(withBos(tokenizer, tokens, 0, Math.min(contextLength, tokens.length)));
            if (windows.size() >= maxWindows) {
                break;
            }
        }
        return windows;
    }

    /**
     * The whole text as one token stream (documents joined as they stand), cut into chunks of {@code chunk} tokens,
     * each scored as {@code [BOS] + chunk}.
     */
    public static List<int[]> chunks(Tokenizer tokenizer, String text, int chunk, int contextLength, int maxWindows) {
        if (chunk < 1 || chunk > contextLength) {
            throw new IllegalArgumentException("chunk size %d must be between 1 and the context length %d"
                    .formatted(chunk, contextLength));
        }
        int[] tokens = tokenizer.encode(text, false, false);
        var windows = new ArrayList<int[]>();
        for (int start = 0; start + chunk <= tokens.length && windows.size() < maxWindows; start += chunk) {
            windows.add(withBos(tokenizer, tokens, start, chunk));
        }
        return windows;
    }

    private static int[] withBos(Tokenizer tokenizer, int[] tokens, int start, int length) {
        if (tokenizer.bos() < 0) {
            throw new IllegalArgumentException("the model's vocabulary has no BOS token to start a window with");
        }
        int[] w = new int[length + 1];
        w[0] = tokenizer.bos();
        System.arraycopy(tokens, start, w, 1, length);
        return w;
    }
}
