package io.innerq.engine;

/**
 * The model computed a logit that is NaN or infinite, so no token can be chosen: the generation ends with this
 * error and its cache is freed (the generator stays usable). It comes from the model, not the request: NaN or
 * infinite weights that the load-time check did not read (it reads the matrices only when asked, e.g.
 * {@code --check-weights}), or activations that overflow float. A caller serving requests should answer it as a
 * server-side error about the model, not as a bad request.
 */
public final class NonFiniteLogitsException extends RuntimeException {

    private final int position;
    private final int token;
    private final float value;

    /**
     * @param position the sequence position whose logits were computed (prompt included, from 0)
     * @param token    the first token id whose logit is not finite
     * @param value    that logit
     */
    public NonFiniteLogitsException(String model, int position, int token, float value) {
        super(("the model %s computed a logit of %s (token %d) at position %d: its weights or hyper-parameters hold"
                + " values that do not compute; load it with the check of every weight (--check-weights,"
                + " spring.ai.innerq.check-weights=true) to find them").formatted(model, value, token, position));
        this.position = position;
        this.token = token;
        this.value = value;
    }

    public int position() {
        return position;
    }

    public int token() {
        return token;
    }

    public float value() {
        return value;
    }
}
